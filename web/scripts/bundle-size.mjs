#!/usr/bin/env node
// Gzipped size of what the browser loads first: index.html and the scripts and styles it links
// (modulepreload included); lazy route chunks are not counted.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const files = ['index.html', ...[...html.matchAll(/(?:src|href)="\/([^"]+\.(?:js|css))"/g)].map((m) => m[1])];
let total = 0;
for (const f of files) {
  const n = gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
  total += n;
  console.log(`${(n / 1024).toFixed(1).padStart(8)} KB  ${f}`);
}
console.log(`${(total / 1024).toFixed(1).padStart(8)} KB  initial load, gzipped`);
if (process.argv.includes('--max-kb')) {
  const max = Number(process.argv[process.argv.indexOf('--max-kb') + 1]);
  if (total / 1024 > max) {
    console.error(`initial load ${(total / 1024).toFixed(1)} KB exceeds ${max} KB`);
    process.exit(1);
  }
}
