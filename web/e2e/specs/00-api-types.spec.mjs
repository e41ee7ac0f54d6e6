import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ctx, repoRoot } from '../lib/context.mjs';
import { generate } from '../../scripts/api-types.mjs';

test('the typed API client matches the running server /api/openapi.json', async () => {
  const spec = await (await fetch(`${ctx.stack.baseUrl}/api/openapi.json`)).json();
  const fresh = await generate(spec);
  const committed = readFileSync(join(repoRoot, 'web/src/api/schema.d.ts'), 'utf8');
  assert.ok(committed === fresh, 'web/src/api/schema.d.ts is out of date: run `cd web && node scripts/check-api-types.mjs http://127.0.0.1:PORT/api/openapi.json --write` against a server of this build and commit it');
});
