import { test } from 'node:test';
import { ctx } from '../lib/context.mjs';
import { checkA11y, freshPage, signIn } from '../lib/browser.mjs';
import { USERS } from '../lib/server.mjs';

const FIRM_PAGES = [
  ['clients', '/clients'],
  ['tasks', '/tasks?who=all'],
  ['settings-firm', '/settings/firm'],
  ['settings-users', '/settings/users'],
  ['settings-invitations', '/settings/invitations'],
  ['settings-api-keys', '/settings/api-keys'],
  ['settings-voiceprints', '/settings/voiceprints'],
  ['jobs', '/admin/jobs'],
  ['audit', '/admin/audit'],
  ['search', '/search'],
];

for (const lang of ['fr', 'en']) {
test(`every main page in ${lang}: screenshots, axe-core, 1280 and 768 px`, { timeout: 200_000 }, async () => {
  const { baseUrl } = ctx.stack;
  {
    const page = await freshPage(ctx.browser.context, baseUrl);
    await signIn(page, baseUrl, USERS.owner, { lang });
    const pages = [...FIRM_PAGES, ...(ctx.clientUrl ? [['client', new URL(ctx.clientUrl).pathname]] : []), ...(ctx.meetingUrl ? [['meeting', new URL(ctx.meetingUrl).pathname]] : [])];
    for (const [name, path] of pages) {
      await page.goto(`${baseUrl}${path}`);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await page.waitForLoadState('networkidle');
      await checkA11y(page, `${name} ${lang}`, ctx.axe);
      await ctx.shots.shot(page, `${name}-${lang}`);
    }
    await page.setViewportSize({ width: 768, height: 1024 });
    for (const [name, path] of [['clients', '/clients'], ['meeting', ctx.meetingUrl ? new URL(ctx.meetingUrl).pathname : '/tasks']]) {
      await page.goto(`${baseUrl}${path}`);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await checkA11y(page, `${name} ${lang} 768px`, ctx.axe);
      await ctx.shots.shot(page, `${name}-${lang}-768`);
    }
    await page.close();
  }
});
}
