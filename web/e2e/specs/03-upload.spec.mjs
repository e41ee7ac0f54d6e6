import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ctx, repoRoot } from '../lib/context.mjs';
import { freshPage, signIn } from '../lib/browser.mjs';
import { USERS } from '../lib/server.mjs';

const JFK = () => ({ name: 'jfk.wav', mimeType: 'audio/wav', buffer: readFileSync(join(repoRoot, 'tests/data/asr/jfk.wav')) });

test('upload: refused files, consent required, reload in the middle resumes, processing to the end', { timeout: 150_000 }, async () => {
  assert.ok(ctx.meetingUrl, 'needs the meeting created by the clients spec');
  const { baseUrl } = ctx.stack;
  const page = await freshPage(ctx.browser.context, baseUrl);
  await signIn(page, baseUrl, USERS.owner, { next: new URL(ctx.meetingUrl).pathname });
  await page.getByRole('heading', { name: 'Premier rendez-vous E2E' }).waitFor();
  const patches = [];
  page.on('request', (r) => {
    if (r.method() === 'PATCH' && r.url().includes('/api/uploads/')) patches.push(r.headers()['upload-offset']);
  });
  const input = page.getByTestId('file-input');

  // Not audio: refused before any request.
  await input.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('bonjour') });
  await page.getByTestId('upload-refused').waitFor();
  assert.match(await page.getByTestId('upload-refused').innerText(), /n'est pas un fichier audio/);

  // Over the server's limit (4 MB in this run): the server refuses the creation, no byte is sent.
  await input.setInputFiles({ name: 'long.wav', mimeType: 'audio/wav', buffer: Buffer.alloc(4_100_000) });
  assert.equal(await page.getByTestId('upload-start').isDisabled(), true, 'consent is required');
  await page.getByLabel('Les participants ont consenti').check();
  await page.getByTestId('upload-start').click();
  await page.getByTestId('upload-refused').waitFor();
  assert.match(await page.getByTestId('upload-refused').innerText(), /Mo|MiB|trop|volumineux|limite/i);
  assert.deepEqual(patches, []);

  // A slow link, and a reload once the first chunk is on the server.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 120 * 1024 });
  await input.setInputFiles(JFK());
  await page.getByTestId('upload-start').click();
  await page.getByTestId('upload-progress').waitFor();
  await ctx.shots.shot(page, 'upload-in-progress-fr');
  await page.waitForResponse((r) => r.request().method() === 'PATCH' && r.status() === 204, { timeout: 30_000 });
  await page.reload();
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

  await page.getByTestId('unfinished-upload').waitFor();
  await page.getByTestId('file-input').setInputFiles(JFK());
  await page.getByLabel('Les participants ont consenti').check();
  await page.getByTestId('upload-start').click();
  const resumed = page.getByTestId('resumed-from');
  await resumed.waitFor();
  assert.ok(Number(await resumed.getAttribute('data-offset')) >= 256 * 1024, 'continues from the server offset');
  assert.ok(patches.length >= 2 && patches.at(-1) !== '0', `resumed PATCH offsets: ${patches.join(',')}`);

  // Then the processing, live from the recording's events, to the end.
  const rec = page.getByTestId('recording').first();
  await rec.waitFor({ timeout: 30_000 });
  await page.locator('[data-testid=recording][data-state=done]').waitFor({ timeout: 90_000 });
  await ctx.shots.shot(page, 'meeting-recording-done-fr');
  await page.getByRole('link', { name: 'Ouvrir la transcription' }).click();
  await page.waitForURL(/\/meetings\/[^/]+\/recordings\/[^/]+$/);
  assert.deepEqual(page.problems.filter((p) => !/413|Payload/.test(p)), []);
  await page.close();
});
