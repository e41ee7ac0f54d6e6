import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fr from './fr.json';
import en from './en.json';
import { fr as transcriptFr, en as transcriptEn } from '../pages/transcript/catalogue';

function flat(o: Record<string, unknown>, p = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? flat(v as Record<string, unknown>, `${p}${k}.`) : [`${p}${k}`]));
}
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const f = join(dir, n);
    return statSync(f).isDirectory() ? sources(f) : /\.tsx?$/.test(n) && !n.endsWith('.test.ts') ? [f] : [];
  });
}

describe('message catalogues', () => {
  it('have the same keys in French and English', () => {
    expect(flat(en).sort()).toEqual(flat(fr).sort());
    expect(flat(transcriptEn).sort()).toEqual(flat(transcriptFr).sort());
  });
  it('have every literal key the code uses', () => {
    const keys = new Set([...flat(fr), ...flat(transcriptFr)].map((k) => k.replace(/_(one|other)$/, '')));
    const missing: string[] = [];
    for (const f of sources(join(__dirname, '..'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bt\(\s*['"]([a-zA-Z0-9_.]+)['"]/g)) if (!keys.has(m[1])) missing.push(`${f}: ${m[1]}`);
    }
    expect(missing).toEqual([]);
  });
});
