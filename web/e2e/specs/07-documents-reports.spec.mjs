// Documents and meeting reports in the real Chromium: a document uploaded to a meeting with its
// progress, listed on the meeting and on the client's timeline, downloaded, renamed (and a stale
// rename's conflict), given a second version, deleted; a report written from a transcribed
// recording with its progress, corrected, marked reviewed, its action item accepted as a task,
// exported as DOCX and PDF and downloaded; screenshots and axe-core in French and English.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctx } from '../lib/context.mjs';
import { apiCall, control, meetingWithJfk } from '../lib/api.mjs';
import { checkA11y, freshPage, signIn } from '../lib/browser.mjs';
import { USERS } from '../lib/server.mjs';

// What the stand-in "hears": an action with a deadline, a decision, in French.
const WORDS = ('Bonjour Maître. Nous avons décidé de vendre la maison de Cabourg. Je vous envoie le compromis ' +
  'avant le 15 décembre. Il faut aussi prévenir le notaire de la succession. Merci beaucoup.').split(' ');

test('documents: upload with progress, timeline, download, rename with conflict, versions, delete', { timeout: 120_000 }, async () => {
  const { baseUrl } = ctx.stack;
  const page = await freshPage(ctx.browser.context, baseUrl);
  try {
    await signIn(page, baseUrl, USERS.owner);
    const c = await apiCall(page, 'POST', '/api/clients', { name: 'Dossier Documents E2E' });
    const m = await apiCall(page, 'POST', '/api/meetings', { client_id: c.json.id, title: 'Remise des pièces', starts_at: '2026-12-02T09:00:00Z' });
    ctx.documentsMeetingUrl = `${baseUrl}/meetings/${m.json.id}`;
    await page.goto(ctx.documentsMeetingUrl);
    await page.getByRole('heading', { name: 'Remise des pièces' }).waitFor();
    const docs = page.getByTestId('documents');

    // A 400 KB text on a slow link: the progress shows, then the row.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 200 * 1024 });
    const text = 'Attestation de propriété de la maison de Cabourg.\n'.repeat(8000);
    await docs.getByTestId('document-file').first().setInputFiles({ name: 'attestation.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
    await docs.getByTestId('document-progress').waitFor();
    await ctx.shots.shot(page, 'document-upload-in-progress-fr');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    const row = docs.getByTestId('document-row').filter({ hasText: 'attestation.txt' });
    await row.waitFor({ timeout: 30_000 });
    await row.getByText('Recherchable').waitFor({ timeout: 20_000 });

    // The download is the file itself.
    const href = await row.getByTestId('document-name').getAttribute('href');
    const got = await page.evaluate((u) => fetch(u).then(async (r) => ({ status: r.status, size: (await r.arrayBuffer()).byteLength })), href);
    assert.deepEqual(got, { status: 200, size: Buffer.byteLength(text) });

    // Rename while someone else renamed it: the conflict, then "replace with mine".
    const id = href.split('/').at(-2);
    await row.getByRole('button', { name: 'Renommer attestation.txt' }).click();
    const dialog = page.getByRole('dialog');
    const other = await apiCall(page, 'PATCH', `/api/documents/${id}`, { name: 'renommé-par-un-collègue.txt' });
    assert.equal(other.status, 200, JSON.stringify(other.json));
    await dialog.getByLabel('Nom').fill('Attestation de propriété.txt');
    await dialog.getByRole('button', { name: 'Enregistrer' }).click();
    await dialog.getByTestId('document-conflict').waitFor();
    assert.match(await dialog.getByTestId('document-conflict').innerText(), /renommé-par-un-collègue\.txt/);
    await checkA11y(page, 'document-conflict fr', ctx.axe);
    await ctx.shots.shot(page, 'document-rename-conflict-fr');
    await dialog.getByRole('button', { name: 'Remplacer par le mien' }).click();
    const renamed = docs.getByTestId('document-row').filter({ hasText: 'Attestation de propriété.txt' });
    await renamed.waitFor();

    // A second version, both downloadable.
    await renamed.getByRole('button', { name: 'Versions Attestation de propriété.txt' }).click();
    await page.getByRole('dialog').getByTestId('document-file').setInputFiles({ name: 'attestation-v2.txt', mimeType: 'text/plain', buffer: Buffer.from('Version corrigée.\n') });
    await page.getByRole('dialog').getByTestId('document-version').nth(1).waitFor();
    await ctx.shots.shot(page, 'document-versions-fr');
    const v1 = await page.evaluate((u) => fetch(u).then((r) => r.status), `/api/documents/${id}/versions/1/download`);
    assert.equal(v1, 200);
    await page.keyboard.press('Escape');
    await renamed.getByText('version 2').waitFor();

    // On the client's timeline, opening the file.
    await page.goto(`${baseUrl}/clients/${c.json.id}`);
    await page.getByRole('tab', { name: 'Chronologie' }).click();
    await page.getByTestId('timeline-document').filter({ hasText: 'Attestation de propriété.txt' }).waitFor();
    await page.getByRole('tab', { name: 'Documents' }).click();
    await page.getByTestId('document-row').first().waitFor();
    await checkA11y(page, 'client-documents fr', ctx.axe);
    await ctx.shots.shot(page, 'client-documents-fr');

    // Delete (an admin): gone from the list and from the server.
    await page.getByRole('button', { name: 'Supprimer Attestation de propriété.txt' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Supprimer définitivement' }).click();
    await page.getByText('Document supprimé.').waitFor();
    await page.getByText('Aucun document.').waitFor();
    assert.equal((await apiCall(page, 'GET', `/api/documents/${id}`)).status, 404);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('report: generated with progress, corrected, reviewed, action accepted as a task, DOCX and PDF', { timeout: 150_000 }, async () => {
  const { baseUrl } = ctx.stack;
  await control({ words: WORDS, segment_seconds: 12, word_seconds: 0.3 });
  const page = await freshPage(ctx.browser.context, baseUrl);
  try {
    await signIn(page, baseUrl, USERS.owner);
    const { meetingId, recordingId } = await meetingWithJfk(page, { client: 'Succession Cabourg', title: 'Vente de la maison' });
    await control({ reset: true });
    await page.goto(`${baseUrl}/meetings/${meetingId}`);
    const reports = page.getByTestId('reports');
    await reports.getByRole('button', { name: 'Générer le compte rendu' }).click();
    await reports.getByTestId('open-report').waitFor({ timeout: 30_000 });
    await reports.getByTestId('open-report').click();
    await page.waitForURL(/\/reports\//);
    const reportId = page.url().split('/').pop();
    await page.getByText('Brouillon à relire').waitFor();

    // The action with its deadline, the decision, the excerpts linking to the audio.
    await page.getByTestId('report-action').first().waitFor();
    const draft = (await apiCall(page, 'GET', `/api/reports/${reportId}`)).json;
    assert.ok(draft.actions.some((a) => /compromis/.test(a.what)), JSON.stringify(draft.actions));
    const excerptLink = page.locator(`a[href*="/recordings/${recordingId}?t="]`).first();
    await excerptLink.waitFor();
    await checkA11y(page, 'report fr', ctx.axe);
    await ctx.shots.shot(page, 'report-draft-fr');

    // Correct the summary's first sentence, save, then mark reviewed.
    const first = page.getByRole('textbox', { name: 'Résumé 1', exact: true });
    await first.fill('Vente décidée de la maison de Cabourg ; compromis à envoyer.');
    await page.getByRole('button', { name: 'Enregistrer le brouillon' }).click();
    await page.getByText('Brouillon enregistré.').waitFor();
    assert.match(JSON.stringify((await apiCall(page, 'GET', `/api/reports/${reportId}`)).json.summary[0]), /Vente décidée/);
    await page.getByTestId('review-report').click();
    await page.getByText('Relu et validé').first().waitFor();

    // After review: the action becomes a task linked to the meeting.
    const row = page.getByTestId('report-action').filter({ hasText: 'compromis' }).first();
    await row.getByRole('checkbox').check();
    await page.getByTestId('accept-actions').click();
    await page.getByTestId('tasks-created').waitFor();
    const tasks = await apiCall(page, 'GET', `/api/tasks?meeting_id=${meetingId}`);
    assert.ok(tasks.json.data.some((t) => /compromis/.test(t.title)), JSON.stringify(tasks.json));

    // Exports: DOCX then PDF, each downloaded.
    for (const [format, magic] of [['DOCX', 'PK'], ['PDF', '%PDF']]) {
      await page.getByRole('button', { name: `Exporter en ${format}` }).click();
      const link = page.getByTestId('export-download').filter({ hasText: `Télécharger le ${format}` });
      await link.waitFor({ timeout: 60_000 });
      const head = await page.evaluate((u) => fetch(u).then(async (r) => new TextDecoder().decode((await r.arrayBuffer()).slice(0, 4))), await link.getAttribute('href'));
      assert.ok(head.startsWith(magic), `${format}: ${head}`);
    }
    await ctx.shots.shot(page, 'report-reviewed-fr');
    await page.evaluate(() => localStorage.setItem('crm-ai.lang', 'en'));
    await page.reload();
    await page.getByText('Reviewed').first().waitFor();
    await checkA11y(page, 'report en', ctx.axe);
    await ctx.shots.shot(page, 'report-reviewed-en');
    assert.deepEqual(page.problems, []);
  } finally {
    await control({ reset: true });
    await page.close();
  }
});
