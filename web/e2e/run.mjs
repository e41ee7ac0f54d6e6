#!/usr/bin/env node
// End-to-end tests in the real headless Chromium against the real `crm-ai serve`.
// Usage: CRM_AI_BIN=build/ci/crm-ai node e2e/run.mjs [name filter[,filter…]]
// Exits non-zero when any step fails (node:test sets the exit code), so CTest fails with it.
import { after, before } from 'node:test';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setUp, tearDown } from './lib/context.mjs';

const here = dirname(fileURLToPath(import.meta.url));
before(setUp, { timeout: 60_000 });
after(tearDown, { timeout: 30_000 });

const filters = (process.argv[2] ?? '').split(',').filter(Boolean);
for (const f of readdirSync(join(here, 'specs')).filter((n) => n.endsWith('.spec.mjs')).sort()) {
  if (filters.length && !filters.some((x) => f.includes(x))) continue;
  await import(pathToFileURL(join(here, 'specs', f)).href);
}
