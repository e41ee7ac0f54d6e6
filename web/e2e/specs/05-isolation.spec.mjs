import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctx } from '../lib/context.mjs';
import { freshPage, signIn } from '../lib/browser.mjs';
import { USERS } from '../lib/server.mjs';

test("a second firm's user sees none of the first firm's data", { timeout: 60_000 }, async () => {
  assert.ok(ctx.clientUrl && ctx.meetingUrl);
  const { baseUrl } = ctx.stack;
  const page = await freshPage(ctx.browser.context, baseUrl);
  await signIn(page, baseUrl, USERS.otherFirm);
  await page.getByTestId('clients-table').waitFor();
  await page.getByLabel('Rechercher').fill('Testeuse');
  await page.getByText('Aucun client ne correspond').waitFor();
  await page.getByLabel('Rechercher').fill('Hélène Caillé');
  await page.getByText('Aucun client ne correspond').waitFor();
  for (const url of [ctx.clientUrl, ctx.meetingUrl]) {
    await page.goto(url);
    await page.getByRole('alert').filter({ hasText: 'Introuvable' }).waitFor();
  }
  await ctx.shots.shot(page, 'other-firm-not-found-fr');
  const status = await page.evaluate((id) => fetch(`/api/meetings/${id}`).then((r) => r.status), ctx.meetingId);
  assert.equal(status, 404);
  await page.close();
});
