// The report's send dialog against a stubbed API: prefilled from the client's file, checked
// before sending, the server's 422 shown by its fields, and the body it posts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { json, renderWithApp } from '../../test/render';
import type { Report } from '../reports/types';
import { ReportSendSlot } from '../reports/ReportSendSlot';

const report: Report = {
  id: 'r1',
  client_id: 'c1',
  meeting_id: 'm1',
  recording_id: 'rec1',
  mode: 'extractive',
  status: 'reviewed',
  error: null,
  job_id: null,
  reviewed_at: '2026-12-02T10:00:00Z',
  created_at: '2026-12-02T09:30:00Z',
  updated_at: '2026-12-02T10:00:00Z',
  version: 3,
  title: 'Vente de la maison',
  header: null,
  summary: [],
  decisions: [],
  actions: [],
  excerpts: [],
};

type Call = { url: string; method: string; body: unknown };

function stubApi(onMail: (body: unknown) => Response, firmLanguage = 'fr') {
  const calls: Call[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      const method = init?.method ?? 'GET';
      const body = init?.body ? JSON.parse(String(init.body)) : undefined;
      calls.push({ url, method, body });
      if (url.startsWith('/api/clients/c1/contacts'))
        return json({ data: [{ id: 'k1', name: 'Paul Martin', email: 'paul@martin.fr' }, { id: 'k2', name: 'Sans adresse', email: null }], next_cursor: null });
      if (url.startsWith('/api/clients/c1')) return json({ id: 'c1', name: 'Hélène Martin', email: 'helene@martin.fr' });
      if (url === '/api/firm') return json({ id: 'f1', name: 'Cabinet', settings: { language: firmLanguage } });
      if (url.startsWith('/api/meetings/m1')) return json({ id: 'm1', title: 'Vente', starts_at: '2026-12-01T09:00:00Z', participants: [] });
      if (url === '/api/reports/r1/mail' && method === 'POST') return onMail(body);
      return json({ error: { code: 'not_found', message: 'Introuvable / Not found' } }, 404);
    }),
  );
  return calls;
}

async function openDialog() {
  const user = userEvent.setup({ delay: null });
  renderWithApp(<ReportSendSlot report={report} />);
  await user.click(screen.getByRole('button', { name: 'Envoyer par e-mail' }));
  const dialog = await screen.findByRole('dialog');
  // Prefilled once the client's file is read.
  await waitFor(() => expect(dialog.textContent).toContain('helene@martin.fr'));
  return { user, dialog };
}

afterEach(() => vi.unstubAllGlobals());

// Typing into Mantine's inputs under jsdom is slow on a busy machine.
describe('ReportSendSlot', { timeout: 20_000 }, () => {
  it('explains why a draft cannot be sent', () => {
    renderWithApp(<ReportSendSlot report={{ ...report, status: 'draft' }} />);
    const button = screen.getByRole('button', { name: 'Envoyer par e-mail' });
    expect(button).toBeDisabled();
    expect(button.getAttribute('aria-describedby')).toBeTruthy();
    expect(document.getElementById(button.getAttribute('aria-describedby')!)?.textContent).toContain('Relisez et validez');
  });

  it("prefills the client's address and a French subject, follows the language, posts the mail", async () => {
    const calls = stubApi(() =>
      json({ id: 'mail1', kind: 'report', status: 'queued', to: ['helene@martin.fr', 'paul@martin.fr'], cc: [], subject: 's', attempts: 0, attachments: [] }, 202),
    );
    const { user } = await openDialog();
    const subject = screen.getByLabelText('Objet') as HTMLInputElement;
    await waitFor(() => expect(subject.value).toBe('Compte-rendu de la réunion du 1er décembre 2026'));
    expect(screen.getByTestId('send-attachment').textContent).toContain('Vente de la maison');

    await user.click(screen.getByLabelText('English'));
    await waitFor(() => expect(subject.value).toBe('Report of the meeting of 1 December 2026'));
    await user.click(screen.getByLabelText('Français'));

    await user.type(screen.getByRole('textbox', { name: /Destinataires/ }), 'paul@martin.fr{Enter}');
    await user.type(screen.getByLabelText(/Message d'accompagnement/), 'Bonjour, voici le compte rendu.');
    await user.click(screen.getByRole('button', { name: 'Envoyer' }));
    await waitFor(() => expect(calls.some((c) => c.url === '/api/reports/r1/mail')).toBe(true));
    const post = calls.find((c) => c.url === '/api/reports/r1/mail')!;
    expect(post.body).toEqual({
      to: ['helene@martin.fr', 'paul@martin.fr'],
      cc: [],
      language: 'fr',
      subject: 'Compte-rendu de la réunion du 1er décembre 2026',
      message: 'Bonjour, voici le compte rendu.',
    });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it("writes in the firm's language by default", async () => {
    stubApi(() => json({}, 500), 'en');
    await openDialog();
    await waitFor(() => expect((screen.getByLabelText('English') as HTMLInputElement).checked).toBe(true));
    await waitFor(() => expect((screen.getByLabelText('Objet') as HTMLInputElement).value).toBe('Report of the meeting of 1 December 2026'));
  });

  it('checks the recipients before sending anything', async () => {
    const calls = stubApi(() => json({}, 500));
    const { user } = await openDialog();
    const to = screen.getByRole('textbox', { name: /Destinataires/ });
    await user.type(to, '{Backspace}');
    await user.click(screen.getByRole('button', { name: 'Envoyer' }));
    expect(await screen.findByText('Au moins un destinataire')).toBeTruthy();
    await user.type(to, 'pas-une-adresse{Enter}');
    await user.click(screen.getByRole('button', { name: 'Envoyer' }));
    expect(await screen.findByText('Adresse e-mail invalide')).toBeTruthy();
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
  });

  it("shows the server's 422 errors under their fields", async () => {
    stubApi(() =>
      json({ error: { code: 'validation_failed', message: 'Champs invalides / Invalid fields', details: { 'cc[0]': 'must_be_email', subject: 'too_long' } } }, 422),
    );
    const { user } = await openDialog();
    await user.type(screen.getByRole('textbox', { name: /Copie/ }), 'x@y.example{Enter}');
    await user.click(screen.getByRole('button', { name: 'Envoyer' }));
    const cc = screen.getByRole('textbox', { name: /Copie/ });
    await waitFor(() => expect(cc.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('Adresse e-mail invalide')).toBeTruthy();
    expect(screen.getByText('Trop long')).toBeTruthy();
    expect(screen.getByLabelText('Objet').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByRole('dialog')).toBeTruthy();
  });
});
