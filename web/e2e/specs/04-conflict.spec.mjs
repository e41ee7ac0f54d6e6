import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctx } from '../lib/context.mjs';
import { freshPage, signIn } from '../lib/browser.mjs';
import { USERS } from '../lib/server.mjs';

// Someone else saves the client while the form is open.
async function editBehindTheFormsBack(page, clientId, body) {
  return page.evaluate(
    async ({ id, body }) => {
      const me = await fetch('/api/auth/me').then((r) => r.json());
      const r = await fetch(`/api/clients/${id}`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
        body: JSON.stringify(body),
      });
      return r.status;
    },
    { id: clientId, body },
  );
}

test('a stale edit gets a conflict offering reload or overwrite', { timeout: 60_000 }, async () => {
  assert.ok(ctx.clientUrl, 'needs the client created by the clients spec');
  const { baseUrl } = ctx.stack;
  const clientId = ctx.clientUrl.split('/').pop();
  const page = await freshPage(ctx.browser.context, baseUrl);
  await signIn(page, baseUrl, USERS.owner, { next: `/clients/${clientId}` });
  await page.getByRole('button', { name: 'Modifier' }).click();
  let dialog = page.getByRole('dialog');
  await dialog.getByLabel('Téléphone').fill('+33 1 11 11 11 11');
  assert.equal(await editBehindTheFormsBack(page, clientId, { phone: '+33 2 22 22 22 22' }), 200);
  await dialog.getByRole('button', { name: 'Enregistrer' }).click();
  await page.getByTestId('conflict').waitFor();
  await ctx.shots.shot(page, 'client-conflict-fr');

  // Reload: the form shows the other person's version.
  await page.getByRole('button', { name: 'Recharger sa version' }).click();
  await page.waitForFunction(() => document.querySelector('input[type=tel]')?.value === '+33 2 22 22 22 22');

  // Stale again, and this time overwrite.
  await dialog.getByLabel('Téléphone').fill('+33 3 33 33 33 33');
  assert.equal(await editBehindTheFormsBack(page, clientId, { address: '1 rue du Conflit' }), 200);
  await dialog.getByRole('button', { name: 'Enregistrer' }).click();
  await page.getByTestId('conflict').waitFor();
  await page.getByRole('button', { name: 'Écraser avec la mienne' }).click();
  await dialog.waitFor({ state: 'detached' });
  const saved = await page.evaluate((id) => fetch(`/api/clients/${id}`).then((r) => r.json()), clientId);
  assert.equal(saved.phone, '+33 3 33 33 33 33');
  assert.equal(saved.address, '1 rue du Conflit', 'only the changed field is sent: the other edit survives');
  dialog = null;
  assert.deepEqual(page.problems, []);
  await page.close();
});
