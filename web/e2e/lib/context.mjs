// The state every spec shares: one server stack and one browser for the whole run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack } from './server.mjs';
import { launchBrowser, screenshotter } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../..');

export const ctx = {
  stack: null,
  browser: null,
  shots: null,
  axe: [],
  outDir: '',
};

export async function setUp() {
  const bin = process.env.CRM_AI_BIN;
  if (!bin) throw new Error('CRM_AI_BIN is not set (the crm-ai executable to test)');
  ctx.outDir = resolve(process.env.E2E_OUT_DIR ?? join(dirname(bin), 'e2e'));
  mkdirSync(ctx.outDir, { recursive: true });
  ctx.stack = await startStack({ bin, repoRoot, logDir: ctx.outDir });
  ctx.browser = await launchBrowser();
  ctx.shots = screenshotter(join(ctx.outDir, 'screenshots'));
}

export async function tearDown() {
  if (ctx.browser) await ctx.browser.close();
  if (ctx.stack) await ctx.stack.stop();
  if (ctx.outDir) {
    writeFileSync(join(ctx.outDir, 'axe-results.json'), JSON.stringify(ctx.axe, null, 1));
    writeFileSync(join(ctx.outDir, 'screenshots.txt'), (ctx.shots?.taken ?? []).join('\n') + '\n');
  }
}
