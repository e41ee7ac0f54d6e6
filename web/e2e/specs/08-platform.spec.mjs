// The platform admin: firm management, acting in a firm (the banner, the firm's data and no
// other's, the audit entries on both sides, the way back), and every firm's jobs with a failed
// one's error and its retry; screenshots and axe-core in French and English.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctx } from '../lib/context.mjs';
import { apiCall, control, meetingWithJfk } from '../lib/api.mjs';
import { checkA11y, freshPage, signIn } from '../lib/browser.mjs';
import { USERS } from '../lib/server.mjs';

test('platform admin: acts in one firm (audited, isolated), sees and retries every firm\'s jobs', { timeout: 150_000 }, async () => {
  assert.ok(ctx.clientUrl, "needs the first firm's client created by the clients spec");
  const { baseUrl } = ctx.stack;
  // A failed job in the second firm: the stand-in refuses the request (400: not worth retrying).
  {
    const other = await freshPage(ctx.browser.context, baseUrl);
    await signIn(other, baseUrl, USERS.otherFirm);
    await control({ fail: 1, fail_status: 400 });
    ctx.failed = await meetingWithJfk(other, { client: 'Client à la tâche échouée', title: 'RDV', until: null });
    await control({ reset: true });
    await other.close();
  }
  const page = await freshPage(ctx.browser.context, baseUrl);
  try {
    await signIn(page, baseUrl, USERS.platform);
    await page.waitForURL(/\/admin\/firms/);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    await checkA11y(page, 'admin-firms fr', ctx.axe);
    await ctx.shots.shot(page, 'admin-firms-fr');

    // Every firm's jobs: the failed one with its error, retried from here.
    await page.getByRole('link', { name: 'Tâches de fond' }).click();
    const failedRow = page.locator('[data-testid=job-row][data-state=failed]').filter({ hasText: 'Fiduciaire Lefèvre' }).first();
    await failedRow.waitFor();
    await checkA11y(page, 'admin-jobs fr', ctx.axe);
    await ctx.shots.shot(page, 'admin-jobs-fr');
    await failedRow.getByRole('button', { name: /^Relancer/ }).click();
    await page.getByText('Tâche relancée.').waitFor();
    const end = Date.now() + 60_000;
    for (;;) {
      const job = await apiCall(page, 'GET', `/api/jobs/${ctx.failed.jobId}`);
      if (job.json.state === 'succeeded') break;
      assert.ok(Date.now() < end, JSON.stringify(job.json));
      await new Promise((r) => setTimeout(r, 300));
    }

    // Acting in the first firm: the banner, its clients, another firm's client still 404.
    await page.getByRole('link', { name: 'Cabinets' }).click();
    await page.getByRole('button', { name: 'Cabinet Dupont & Associés' }).click();
    await page.getByRole('button', { name: 'Agir dans le cabinet Cabinet Dupont & Associés' }).click();
    await page.waitForURL(/\/clients/);
    const banner = page.getByTestId('acting-banner');
    await banner.getByText('Vous agissez dans le cabinet Cabinet Dupont & Associés').waitFor();
    await page.getByTestId('clients-table').getByText('Hélène Caillé').waitFor();
    await checkA11y(page, 'acting-clients fr', ctx.axe);
    await ctx.shots.shot(page, 'acting-in-firm-fr');
    await page.goto(ctx.clientUrl);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    const foreign = await apiCall(page, 'GET', `/api/clients/${ctx.failed.clientId}`);
    assert.equal(foreign.status, 404, 'the other firm stays out of reach');
    await page.goto(`${baseUrl}/clients/${ctx.failed.clientId}`);
    await page.getByRole('alert').filter({ hasText: 'Introuvable' }).waitFor();
    // Written in the firm's own log.
    await page.goto(`${baseUrl}/admin/audit`);
    await page.getByText('platform_admin.acting_started').first().waitFor();
    await ctx.shots.shot(page, 'acting-audit-fr');

    // The way back, then the platform's own log.
    await page.getByTestId('acting-banner').getByRole('button', { name: 'Revenir à la plateforme' }).click();
    await page.waitForURL(/\/admin\/firms/);
    await page.getByTestId('acting-banner').waitFor({ state: 'detached' });
    await page.goto(`${baseUrl}/admin/platform-audit`);
    await page.getByText('platform_admin.acting_stopped').first().waitFor();
    await page.getByText('job.retried').first().waitFor();
    await checkA11y(page, 'platform-audit fr', ctx.axe);
    await ctx.shots.shot(page, 'platform-audit-fr');

    // The same pages in English.
    await page.evaluate(() => localStorage.setItem('crm-ai.lang', 'en'));
    for (const [name, path] of [['admin-firms', '/admin/firms'], ['admin-jobs', '/admin/jobs'], ['platform-audit', '/admin/platform-audit']]) {
      await page.goto(`${baseUrl}${path}`);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await page.waitForLoadState('networkidle');
      await checkA11y(page, `${name} en`, ctx.axe);
      await ctx.shots.shot(page, `${name}-en`);
    }
    assert.deepEqual(page.problems, []);
  } finally {
    await control({ reset: true });
    await page.close();
  }
});
