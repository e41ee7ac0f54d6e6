import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctx } from '../lib/context.mjs';
import { checkA11y, freshPage, signIn } from '../lib/browser.mjs';
import { USERS } from '../lib/server.mjs';

test('clients: accent-insensitive search, 422 field error, create a client and a meeting', { timeout: 90_000 }, async () => {
  const { baseUrl } = ctx.stack;
  const page = await freshPage(ctx.browser.context, baseUrl);
  await signIn(page, baseUrl, USERS.owner);
  await page.waitForURL(/\/clients$/);
  await page.getByTestId('clients-table').waitFor();
  await checkA11y(page, 'clients fr', ctx.axe);
  await ctx.shots.shot(page, 'clients-fr');

  // Instant search without accents finds "Hélène Caillé"; the URL keeps the query.
  await page.getByLabel('Rechercher').fill('helene caille');
  await page.getByRole('link', { name: 'Hélène Caillé' }).waitFor();
  assert.equal(await page.getByTestId('clients-table').locator('tbody tr').count(), 1);
  assert.match(page.url(), /q=helene/);
  await page.getByLabel('Rechercher').fill('');

  // Tag filter: seed gives "prioritaire" to every third client.
  await page.getByLabel('Étiquette', { exact: true }).fill('prioritaire');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=clients-table] tbody tr').length === 4);
  await page.getByLabel('Étiquette', { exact: true }).fill('');

  await page.getByRole('button', { name: 'Nouveau client' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Nom').first().fill('Zoé Testeuse E2E');
  await dialog.getByLabel('E-mail').fill('pas-une-adresse');
  await dialog.getByRole('button', { name: 'Créer' }).click();
  // The server's 422 is shown next to the e-mail field.
  const emailError = dialog.locator('.mantine-TextInput-error').first();
  await emailError.waitFor();
  assert.match(await emailError.innerText(), /e-mail/i);
  await dialog.getByLabel('E-mail').fill('zoe.testeuse@exemple.fr');
  await dialog.getByRole('button', { name: 'Créer' }).click();
  await page.waitForURL(/\/clients\/[^/]+$/);
  ctx.clientUrl = page.url();
  await page.getByRole('heading', { name: 'Zoé Testeuse E2E' }).waitFor();
  await checkA11y(page, 'client fr', ctx.axe);
  await ctx.shots.shot(page, 'client-fr');

  await page.getByRole('button', { name: 'Nouveau rendez-vous' }).first().click();
  const m = page.getByRole('dialog');
  await m.getByLabel('Objet').fill('Premier rendez-vous E2E');
  await m.getByLabel('Date et heure').fill('2026-03-02T10:30');
  await m.getByLabel('Lieu').fill('Bureau principal');
  await m.getByRole('button', { name: 'Créer' }).click();
  await page.waitForURL(/\/meetings\/[^/]+$/);
  ctx.meetingUrl = page.url();
  ctx.meetingId = page.url().split('/').pop();
  await page.getByRole('heading', { name: 'Premier rendez-vous E2E' }).waitFor();
  // 10:30 in Paris on 2 March 2026 (UTC+1) is stored as 09:30 UTC.
  const stored = await page.evaluate((id) => fetch(`/api/meetings/${id}`).then((r) => r.json()), ctx.meetingId);
  assert.equal(stored.starts_at, '2026-03-02T09:30:00Z');
  await checkA11y(page, 'meeting fr', ctx.axe);
  await ctx.shots.shot(page, 'meeting-fr');
  assert.deepEqual(page.problems, []);
  await page.close();
});
