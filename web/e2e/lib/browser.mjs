// Drives the Debian chromium through playwright-core (no browser download), and the helpers the
// tests share: sign-in, screenshots into the build directory, axe-core checks.
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_PASSWORD } from './server.mjs';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'crm-e2e-chromium-'));
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// A fresh, cookie-less browser context per test (one persistent profile, isolated contexts are
// not available there, so each test clears cookies and storage instead).
export async function freshPage(context, baseUrl) {
  await context.clearCookies();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  page.problems = problems;
  await page.goto(`${baseUrl}/sign-in`);
  await page.evaluate(() => localStorage.clear());
  return page;
}

export async function signIn(page, baseUrl, email, { lang = 'fr', password = DEMO_PASSWORD, next } = {}) {
  await page.goto(`${baseUrl}/sign-in${next ? `?next=${encodeURIComponent(next)}` : ''}`);
  await page.evaluate((l) => localStorage.setItem('crm-ai.lang', l), lang);
  await page.reload();
  const fr = lang === 'fr';
  await page.getByLabel(fr ? 'Adresse e-mail' : 'Email address').fill(email);
  await page.getByLabel(fr ? 'Mot de passe' : 'Password').fill(password);
  await page.getByRole('button', { name: fr ? 'Se connecter' : 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/sign-in'), { timeout: 10_000 });
}

export function screenshotter(dir) {
  mkdirSync(dir, { recursive: true });
  const taken = [];
  return {
    taken,
    async shot(page, name) {
      await page.waitForLoadState('networkidle').catch(() => {});
      const file = join(dir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      taken.push(file);
      return file;
    },
  };
}

// axe-core on the current page: serious and critical violations fail the test. `exclude`: CSS
// selectors left out, e.g. a frame whose sandbox forbids scripts (axe-core cannot run in it and
// would wait for it forever).
export async function checkA11y(page, label, results, { exclude = [] } = {}) {
  let builder = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']);
  for (const sel of exclude) builder = builder.exclude(sel);
  const r = await builder.analyze();
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  results.push({ page: label, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })) });
  if (bad.length) {
    const text = bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`).join('\n');
    throw new Error(`axe-core on ${label}:\n${text}`);
  }
}
