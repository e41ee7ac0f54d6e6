// One mail of the outbox against a stubbed API: its HTML stays inside a sandboxed frame (never
// elements of this page), the text part is text, attachments link to their download, a failed
// mail shows its error and is sent again.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { json, renderWithApp } from '../test/render';
import { mailSrcDoc } from '../components/mails/MailParts';
import MailPage from './MailPage';

const HOSTILE =
  '<p id="hostile">Bonjour</p><script>window.__pwned = 1</script><img src="https://tracker.example/p.gif" onerror="window.__pwned = 2">' +
  '<form action="https://evil.example"><input name="password"></form>';

const mail = {
  id: 'mail1',
  kind: 'report',
  status: 'failed',
  to: ['helene@martin.fr'],
  cc: ['paul@martin.fr'],
  subject: 'Compte-rendu de la réunion du 1 décembre 2026',
  attempts: 3,
  last_error: { code: 'smtp_unavailable', message: 'Serveur de messagerie injoignable / Mail server unreachable' },
  created_at: '2026-12-02T10:00:00Z',
  sent_at: null,
  report_id: 'r1',
  attachments: [{ id: 'a1', file_name: 'compte-rendu.pdf', content_type: 'application/pdf', size: 48213 }],
  html: HOSTILE,
  text: 'Bonjour <b>Hélène</b>,\nvoici le compte rendu.',
};

function renderMail(calls: string[]) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      calls.push(`${init?.method ?? 'GET'} ${url}`);
      if (url === '/api/mails/mail1/retry') return json({ ...mail, status: 'queued' }, 202);
      if (url === '/api/mails/mail1') return json(mail);
      return json({ error: { code: 'not_found', message: 'x' } }, 404);
    }),
  );
  return renderWithApp(
    <Routes>
      <Route path="/mails/:mailId" element={<MailPage />} />
    </Routes>,
    '/mails/mail1',
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('MailPage', () => {
  it("keeps the mail's HTML out of the page, in a sandboxed frame that runs and fetches nothing", async () => {
    renderMail([]);
    const frame = (await screen.findByTestId('mail-html')) as HTMLIFrameElement;
    expect(frame.tagName).toBe('IFRAME');
    expect(frame.getAttribute('sandbox')).toBe('');
    expect(frame.getAttribute('srcdoc')).toContain('<p id="hostile">Bonjour</p>');
    expect(frame.getAttribute('srcdoc')).toContain("default-src 'none'");
    // Nothing of it became an element of the page.
    expect(document.getElementById('hostile')).toBeNull();
    expect(document.querySelector('script, form[action], img[onerror]')).toBeNull();
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('shows the text part as text, recipients, attachments and the last error; retries', async () => {
    const calls: string[] = [];
    const user = userEvent.setup({ delay: null });
    renderMail(calls);
    await screen.findByRole('heading', { name: mail.subject });
    expect(screen.getByText(/helene@martin\.fr/)).toBeTruthy();
    expect(screen.getByText(/paul@martin\.fr/)).toBeTruthy();
    const link = screen.getByTestId('mail-attachment');
    expect(link.getAttribute('href')).toBe('/api/mails/mail1/attachments/a1');
    expect(screen.getByTestId('mail-error').textContent).toContain('Serveur de messagerie injoignable');
    expect(screen.getByTestId('mail-error').textContent).not.toContain('Mail server unreachable');

    await user.click(screen.getByRole('radio', { name: 'Texte brut' }));
    const text = screen.getByTestId('mail-text');
    expect(text.textContent).toContain('Bonjour <b>Hélène</b>');
    expect(text.querySelector('b')).toBeNull();

    await user.click(screen.getByTestId('mail-retry'));
    await waitFor(() => expect(calls).toContain('POST /api/mails/mail1/retry'));
  });

  it('wraps the HTML in a document with its own restrictive policy', () => {
    const doc = mailSrcDoc('<p>x</p>');
    expect(doc.startsWith('<!doctype html>')).toBe(true);
    expect(doc).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; [^"]*">/);
    expect(doc.indexOf('Content-Security-Policy')).toBeLessThan(doc.indexOf('<p>x</p>'));
  });
});
