#!/usr/bin/env node
// Checks that src/api/schema.d.ts is what openapi-typescript makes of a running server's
// /api/openapi.json, so the typed client cannot drift from the server.
// Usage: node scripts/check-api-types.mjs URL_OF_OPENAPI_JSON [--write]
import { generate } from './api-types.mjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, '..', 'src', 'api', 'schema.d.ts');
const [src, flag] = process.argv.slice(2);
if (!src) {
  console.error('usage: check-api-types.mjs URL|FILE [--write]');
  process.exit(2);
}
const spec = /^https?:/.test(src) ? await (await fetch(src)).json() : JSON.parse(readFileSync(src, 'utf8'));
const fresh = await generate(spec);
if (flag === '--write') {
  writeFileSync(target, fresh);
  console.log(`wrote ${target}`);
} else {
  const current = readFileSync(target, 'utf8');
  if (current !== fresh) {
    console.error(`src/api/schema.d.ts differs from the server's /api/openapi.json; run: cd web && npm run gen:api -- URL (the running server) and commit it`);
    process.exit(1);
  }
  console.log('api types match the server');
}
