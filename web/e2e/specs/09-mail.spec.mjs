// Mail in the real Chromium against the real server (MAIL_MAILER=outbox): a draft report cannot
// be sent yet (and says why); reviewed, it is sent from its page to the client's address with a
// contact in copy, the PDF attached; the report lists the mail with its status; the outbox
// (Boîte d'envoi) shows it with its attachment, opens it (HTML in a sandboxed frame), the PDF
// downloads; the platform admin sees it among every firm's mails. axe-core on the dialog, the
// outbox and the mail; screenshots in French and English, at 1280 and 768 px.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctx } from '../lib/context.mjs';
import { apiCall, control, meetingWithJfk } from '../lib/api.mjs';
import { checkA11y, freshPage, signIn } from '../lib/browser.mjs';
import { USERS } from '../lib/server.mjs';

const WORDS = ('Bonjour Maître. Nous avons décidé de signer le bail commercial. Je vous envoie le projet ' +
  'avant le 20 décembre. Merci beaucoup.').split(' ');

async function until(what, fn, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    assert.ok(Date.now() < end, `timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('mail: a reviewed report sent from its page, read in the outbox with its PDF; the platform sees it', { timeout: 200_000 }, async () => {
  const { baseUrl } = ctx.stack;
  await control({ words: WORDS, segment_seconds: 12, word_seconds: 0.3 });
  const page = await freshPage(ctx.browser.context, baseUrl);
  try {
    await signIn(page, baseUrl, USERS.owner);
    const { clientId, recordingId } = await meetingWithJfk(page, { client: 'Bail Commercial Rivière', title: 'Signature du bail' });
    await control({ reset: true });
    assert.equal((await apiCall(page, 'PATCH', `/api/clients/${clientId}`, { email: 'claire.riviere@example.fr' })).status, 200);
    assert.equal((await apiCall(page, 'POST', `/api/clients/${clientId}/contacts`, { name: 'Marc Rivière', email: 'marc.riviere@example.fr' })).status, 201);
    const created = await apiCall(page, 'POST', `/api/recordings/${recordingId}/reports`, {});
    assert.equal(created.status, 202, JSON.stringify(created.json));
    const reportId = created.json.id;
    const draft = await until('report written', async () => {
      const r = (await apiCall(page, 'GET', `/api/reports/${reportId}`)).json;
      assert.notEqual(r.status, 'failed', JSON.stringify(r));
      return r.status === 'draft' ? r : null;
    });

    // A draft: the button is there, disabled, and says why.
    await page.goto(`${baseUrl}/reports/${reportId}`);
    const send = page.getByTestId('send-report');
    await send.waitFor();
    assert.equal(await send.isDisabled(), true);
    await page.getByText('Relisez et validez le compte rendu avant de l\'envoyer au client.').waitFor();

    // Reviewed: the dialog, prefilled with the client's address and the French subject.
    assert.equal((await apiCall(page, 'POST', `/api/reports/${reportId}/review`, { version: draft.version })).status, 200);
    await page.reload();
    await page.getByText("Ce compte rendu n'a pas encore été envoyé.").waitFor();
    await send.click();
    const dialog = page.getByRole('dialog', { name: 'Envoyer le compte rendu par e-mail' });
    await dialog.waitFor();
    await dialog.getByText('claire.riviere@example.fr').waitFor();
    const subject = dialog.getByLabel('Objet');
    assert.equal(await subject.inputValue(), 'Compte-rendu de la réunion du 1er décembre 2026');
    // An address that is not one: refused before anything is sent.
    const cc = dialog.getByRole('textbox', { name: /Copie/ });
    await cc.fill('pas-une-adresse');
    await cc.press('Enter');
    await dialog.getByRole('button', { name: 'Envoyer', exact: true }).click();
    await dialog.getByText('Adresse e-mail invalide').waitFor();
    await cc.press('Backspace');
    await cc.fill('marc.riviere@example.fr');
    await cc.press('Enter');
    await dialog.getByLabel("Message d'accompagnement").fill('Bonjour Madame, veuillez trouver ci-joint le compte rendu de notre réunion.');
    await checkA11y(page, 'send-report-dialog fr', ctx.axe);
    await ctx.shots.shot(page, 'report-send-dialog-fr');
    await dialog.getByRole('button', { name: 'Envoyer', exact: true }).click();
    await page.getByText(/Compte rendu envoyé à claire\.riviere@example\.fr/).waitFor();
    await dialog.waitFor({ state: 'detached' });

    // The report lists the mail; with MAIL_MAILER=outbox it stays in the outbox, kept.
    const row = page.getByTestId('report-mail').first();
    await row.waitFor();
    await page.locator('[data-testid=report-mail][data-status=kept], [data-testid=report-mail][data-status=sent]').first().waitFor({ timeout: 60_000 });
    assert.match(await row.innerText(), /claire\.riviere@example\.fr/);
    assert.match(await row.innerText(), /marc\.riviere@example\.fr/);
    const mails = (await apiCall(page, 'GET', `/api/reports/${reportId}/mails`)).json;
    assert.equal(mails.data.length, 1, JSON.stringify(mails));
    const mail = mails.data[0];
    assert.deepEqual([mail.to, mail.cc, mail.kind], [['claire.riviere@example.fr'], ['marc.riviere@example.fr'], 'report']);
    assert.equal(mail.attachments.length, 1, JSON.stringify(mail));
    assert.equal(mail.attachments[0].content_type, 'application/pdf');
    await ctx.shots.shot(page, 'report-mails-fr');

    // The outbox, from the navigation: the mail, its status, its PDF.
    await page.getByRole('link', { name: "Boîte d'envoi" }).click();
    await page.waitForURL(/\/mails$/);
    const outRow = page.getByTestId('outbox-row').filter({ hasText: 'Compte-rendu de la réunion du 1er décembre 2026' }).first();
    await outRow.waitFor();
    assert.match(await outRow.innerText(), new RegExp(mail.attachments[0].file_name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await checkA11y(page, 'outbox fr', ctx.axe);
    await ctx.shots.shot(page, 'outbox-fr');
    // The filter: a status it does not have hides it.
    await page.getByRole('textbox', { name: 'Statut' }).click();
    await page.getByRole('option', { name: 'Échec' }).click();
    await page.waitForURL(/status=failed/);
    await page.getByText('Aucun e-mail avec ce statut.').or(page.getByTestId('outbox-row').first()).first().waitFor();
    assert.equal(await page.getByTestId('outbox-row').filter({ hasText: 'Bail' }).count(), 0);
    await page.goto(`${baseUrl}/mails`);

    // One mail: recipients, the HTML body in a sandboxed frame (scripts off), the PDF downloads.
    await page.getByTestId('outbox-row').filter({ hasText: 'Compte-rendu de la réunion du 1er décembre 2026' }).first().getByTestId('outbox-open').click();
    await page.waitForURL(new RegExp(`/mails/${mail.id}$`));
    const view = page.getByTestId('mail-view');
    await view.waitFor();
    assert.match(await view.innerText(), /claire\.riviere@example\.fr/);
    const frame = page.getByTestId('mail-html');
    if (await frame.count()) {
      assert.equal(await frame.getAttribute('sandbox'), '');
      const inner = page.frameLocator('[data-testid=mail-html]');
      await inner.getByText('veuillez trouver ci-joint', { exact: false }).first().waitFor();
    } else {
      await page.getByTestId('mail-text').getByText('veuillez trouver ci-joint', { exact: false }).waitFor();
    }
    const href = await page.getByTestId('mail-attachment').first().getAttribute('href');
    const pdf = await page.evaluate((u) => fetch(u).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), head: new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5)) })), href);
    assert.equal(pdf.status, 200);
    assert.equal(pdf.head, '%PDF-');
    // The mail's own HTML is the mail's, in a frame that runs no script: the page around it is checked.
    await checkA11y(page, 'mail fr', ctx.axe, { exclude: ['[data-testid=mail-html]'] });
    await ctx.shots.shot(page, 'mail-fr');

    // English, and the tablet width.
    await page.evaluate(() => localStorage.setItem('crm-ai.lang', 'en'));
    await page.goto(`${baseUrl}/mails`);
    await page.getByRole('heading', { name: 'Outbox' }).waitFor();
    await page.getByTestId('outbox-row').first().waitFor();
    await checkA11y(page, 'outbox en', ctx.axe);
    await ctx.shots.shot(page, 'outbox-en');
    await page.goto(`${baseUrl}/mails/${mail.id}`);
    await page.getByTestId('mail-view').waitFor();
    await page.getByText('Attachment', { exact: true }).waitFor();
    await checkA11y(page, 'mail en', ctx.axe, { exclude: ['[data-testid=mail-html]'] });
    await ctx.shots.shot(page, 'mail-en');
    await page.goto(`${baseUrl}/reports/${reportId}`);
    await page.getByTestId('send-report').click();
    await page.getByRole('dialog', { name: 'Send the report by email' }).waitFor();
    await page.getByRole('radio', { name: 'English' }).check();
    assert.equal(await page.getByRole('dialog').getByLabel('Subject').inputValue(), 'Report of the meeting of 1 December 2026');
    await checkA11y(page, 'send-report-dialog en', ctx.axe);
    await ctx.shots.shot(page, 'report-send-dialog-en');
    await page.keyboard.press('Escape');
    await page.setViewportSize({ width: 768, height: 1024 });
    await page.goto(`${baseUrl}/mails`);
    await page.getByTestId('outbox-row').first().waitFor();
    await checkA11y(page, 'outbox en 768px', ctx.axe);
    await ctx.shots.shot(page, 'outbox-en-768');
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.deepEqual(page.problems, []);
    ctx.mailId = mail.id;
  } finally {
    await control({ reset: true });
    await page.close();
  }

  // The platform admin: every firm's mails, this one among them, with its firm.
  const admin = await freshPage(ctx.browser.context, baseUrl);
  try {
    await signIn(admin, baseUrl, USERS.platform);
    await admin.getByRole('link', { name: 'Envois de la plateforme' }).click();
    await admin.waitForURL(/\/admin\/mails/);
    const row = admin.getByTestId('outbox-row').filter({ hasText: 'Compte-rendu de la réunion du 1er décembre 2026' }).first();
    await row.waitFor();
    assert.match(await row.innerText(), /Cabinet Dupont/);
    await checkA11y(admin, 'platform-outbox fr', ctx.axe);
    await ctx.shots.shot(admin, 'platform-outbox-fr');
    // Read from the platform: the body and the attachment's name, no download, no retry.
    await row.getByTestId('outbox-open').click();
    await admin.waitForURL(new RegExp(`/admin/mails/${ctx.mailId}$`));
    await admin.getByTestId('mail-view').waitFor();
    await admin.getByTestId('mail-attachment-name').waitFor();
    assert.equal(await admin.getByTestId('mail-attachment').count(), 0);
    await admin.frameLocator('[data-testid=mail-html]').getByText('veuillez trouver ci-joint', { exact: false }).first().waitFor();
    await checkA11y(admin, 'platform-mail fr', ctx.axe, { exclude: ['[data-testid=mail-html]'] });
    assert.deepEqual(admin.problems, []);
  } finally {
    await admin.close();
  }
});
