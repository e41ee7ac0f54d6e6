import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctx } from '../lib/context.mjs';
import { checkA11y, freshPage, signIn } from '../lib/browser.mjs';
import { USERS } from '../lib/server.mjs';

test('sign-in page, wrong password, sign in, back to the page asked for, sign out', { timeout: 60_000 }, async () => {
  const { baseUrl } = ctx.stack;
  const page = await freshPage(ctx.browser.context, baseUrl);
  for (const lang of ['fr', 'en']) {
    await page.evaluate((l) => localStorage.setItem('crm-ai.lang', l), lang);
    await page.goto(`${baseUrl}/sign-in`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await checkA11y(page, `sign-in ${lang}`, ctx.axe);
    await ctx.shots.shot(page, `sign-in-${lang}`);
  }
  await page.evaluate(() => localStorage.setItem('crm-ai.lang', 'fr'));
  await page.goto(`${baseUrl}/tasks`);
  await page.waitForURL(/\/sign-in\?next=%2Ftasks/);
  await page.getByLabel('Adresse e-mail').fill(USERS.owner);
  await page.getByLabel('Mot de passe').fill('wrong-password-1');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByTestId('sign-in-error').waitFor();
  await page.getByLabel('Mot de passe').fill('demo-crm-ai-2026');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(/\/tasks$/);
  await page.getByRole('button', { name: 'Se déconnecter' }).click();
  await page.waitForURL(/\/sign-in/);
  const me = await page.evaluate(() => fetch('/api/auth/me').then((r) => r.status));
  assert.equal(me, 401);
  await signIn(page, baseUrl, USERS.owner);
  // The session expires (cookie gone): the next call leads to sign-in, then back to the page.
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  // Requests of the landing page still in flight would meet the expiry first and send the user
  // to sign-in from that page: let them finish.
  await page.waitForLoadState('networkidle');
  await ctx.browser.context.clearCookies();
  await page.getByRole('link', { name: 'Tâches', exact: true }).click();
  await page.waitForURL(/\/sign-in\?next=%2Ftasks.*expired=1/);
  await page.getByLabel('Adresse e-mail').fill(USERS.owner);
  await page.getByLabel('Mot de passe').fill('demo-crm-ai-2026');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(/\/tasks$/);
  assert.deepEqual(page.problems, []);
  await page.close();
});
