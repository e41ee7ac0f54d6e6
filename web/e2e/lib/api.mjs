// Calls the tests make besides the browser's clicks: the API from inside the page (its session
// cookie and CSRF token), the stand-in's control, a recording uploaded and processed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ctx, repoRoot } from './context.mjs';

// Changes what the OpenAI stand-in answers (words, failures); `{ reset: true }` undoes it.
export async function control(body) {
  const url = ctx.stack.env.OPENAI_BASE_URL.replace(/\/v1\/?$/, '') + '/control';
  const r = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.text());
}

export async function apiCall(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const me = await fetch('/api/auth/me').then((r) => r.json());
      const r = await fetch(path, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token ?? '' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, json: await r.json().catch(() => null) };
    },
    { method, path, body },
  );
}

// A client, a meeting, jfk.wav uploaded to it; waits for `until` ("done" by default, or any
// terminal state with until = null). Returns the ids.
export async function meetingWithJfk(page, { client = 'Succession Kennedy', title = 'Discours inaugural', until = 'done' } = {}) {
  const c = await apiCall(page, 'POST', '/api/clients', { name: client });
  assert.equal(c.status, 201, JSON.stringify(c.json));
  const m = await apiCall(page, 'POST', '/api/meetings', { client_id: c.json.id, title, starts_at: '2026-12-01T09:00:00Z' });
  assert.equal(m.status, 201, JSON.stringify(m.json));
  const wav = readFileSync(join(repoRoot, 'tests/data/asr/jfk.wav')).toString('base64');
  const up = await page.evaluate(
    async ({ meetingId, wav }) => {
      const me = await fetch('/api/auth/me').then((r) => r.json());
      const bytes = Uint8Array.from(atob(wav), (ch) => ch.charCodeAt(0));
      const r = await fetch(`/api/meetings/${meetingId}/recordings?consent=true&filename=jfk.wav`, {
        method: 'POST',
        headers: { 'Content-Type': 'audio/wav', 'X-CSRF-Token': me.csrf_token ?? '' },
        body: new Blob([bytes], { type: 'audio/wav' }),
      });
      return { status: r.status, json: await r.json() };
    },
    { meetingId: m.json.id, wav },
  );
  assert.equal(up.status, 201, JSON.stringify(up.json));
  const id = up.json.id;
  const end = Date.now() + 60_000;
  for (;;) {
    const rec = await apiCall(page, 'GET', `/api/recordings/${id}`);
    const state = rec.json?.processing?.state ?? rec.json?.status;
    if (until ? rec.json?.status === until : ['done', 'failed', 'cancelled'].includes(state)) break;
    if (until) assert.notEqual(rec.json?.status, 'failed', JSON.stringify(rec.json));
    assert.ok(Date.now() < end, `recording not processed: ${JSON.stringify(rec.json)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return { clientId: c.json.id, meetingId: m.json.id, recordingId: id, jobId: up.json.job_id };
}
