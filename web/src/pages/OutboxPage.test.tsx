// The outbox list against a stubbed API: status badges, the status filter in the request and the
// address, the next page by its cursor, a failed mail's error and retry.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { json, renderWithApp } from '../test/render';
import OutboxPage from './OutboxPage';

const base = { kind: 'report', cc: [], attempts: 1, created_at: '2026-12-02T10:00:00Z', sent_at: null, report_id: 'r1', attachments: [] };
const page1 = {
  data: [
    { ...base, id: 'm1', status: 'kept', to: ['a@b.fr'], subject: 'Premier', attachments: [{ id: 'a1', file_name: 'compte-rendu.pdf', content_type: 'application/pdf', size: 10 }] },
    { ...base, id: 'm2', status: 'failed', to: ['c@d.fr'], subject: 'Deuxième', attempts: 5, last_error: 'Connexion refusée / Connection refused' },
  ],
  next_cursor: 'CUR2',
};
const page2 = { data: [{ ...base, id: 'm3', kind: 'invitation', status: 'sent', to: ['e@f.fr'], subject: 'Troisième' }], next_cursor: null };

afterEach(() => vi.unstubAllGlobals());

describe('OutboxPage', () => {
  it('lists mails with their status, pages on, filters by status and retries a failed one', async () => {
    const calls: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        const url = String(input);
        calls.push(`${init?.method ?? 'GET'} ${url}`);
        if (url.startsWith('/api/mails/m2/retry')) return json({ ...page1.data[1], status: 'queued' }, 202);
        if (url.includes('cursor=CUR2')) return json(page2);
        if (url.includes('status=failed')) return json({ data: [page1.data[1]], next_cursor: null });
        if (url.startsWith('/api/mails')) return json(page1);
        return json({ error: { code: 'not_found', message: 'x' } }, 404);
      }),
    );
    const user = userEvent.setup({ delay: null });
    renderWithApp(<OutboxPage />, '/mails');
    expect(await screen.findByRole('heading', { name: "Boîte d'envoi" })).toBeTruthy();
    const rows = await screen.findAllByTestId('outbox-row');
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).getByTestId('mail-status').textContent).toBe('Conservé');
    expect(within(rows[0]).getByText(/compte-rendu\.pdf/)).toBeTruthy();
    expect(within(rows[1]).getByTestId('outbox-error').textContent).toBe('Connexion refusée');
    expect(within(rows[1]).getByText('5 tentatives')).toBeTruthy();

    await user.click(screen.getByRole('button', { name: 'Afficher la suite' }));
    await waitFor(() => expect(screen.getAllByTestId('outbox-row')).toHaveLength(3));
    expect(calls.some((c) => c.includes('cursor=CUR2'))).toBe(true);

    await user.click(within(rows[1]).getByRole('button', { name: 'Renvoyer « Deuxième »' }));
    await waitFor(() => expect(calls).toContain('POST /api/mails/m2/retry'));

    await user.click(screen.getByRole('textbox', { name: 'Statut' }));
    await user.click(await screen.findByRole('option', { name: 'Échec' }));
    await waitFor(() => expect(screen.getAllByTestId('outbox-row')).toHaveLength(1));
    expect(calls.some((c) => c.startsWith('GET /api/mails?status=failed'))).toBe(true);
  });
});
