// Early refusals seen by real clients that stream their body: the official OpenAI SDK (v4) and
// headless Chromium's fetch of a File. Prints one JSON object: what each client got.
// Usage: node early_reject.cjs CASES_JSON FILE CHROMIUM USER_DATA_DIR
'use strict';
const fs = require('fs');
const OpenAI = require('openai');
const { chromium } = require('playwright-core');

const [, , casesPath, filePath, chromiumPath, userDataDir] = process.argv;
const c = JSON.parse(fs.readFileSync(casesPath, 'utf8'));

async function sdk() {
  const client = new OpenAI({ apiKey: 'crm_wrong_key', baseURL: c.base + '/v1', maxRetries: 0 });
  const tries = [];
  for (let i = 0; i < 3; i++) {
    try {
      await client.audio.transcriptions.create({ file: fs.createReadStream(filePath), model: 'whisper-1' });
      tries.push({ ok: true });
    } catch (e) {
      tries.push({
        class: e.constructor.name,
        auth_error: e instanceof OpenAI.AuthenticationError,
        status: e.status === undefined ? null : e.status,
        type: e.error && e.error.type ? e.error.type : null,
        message: String(e.message).slice(0, 200),
      });
    }
  }
  return tries;
}

async function browser() {
  // A persistent context: playwright refuses --user-data-dir among the launch arguments.
  const b = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = b.pages()[0] || await b.newPage();
    await page.goto(c.base + '/health/live');
    return await page.evaluate(async ({ cases, size }) => {
      const out = [];
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 7919) & 0xff;
      for (const k of cases) {
        const file = new File([bytes], 'rendez-vous.wav', { type: 'audio/wav' });
        let body = file;
        if (k.multipart) {
          body = new FormData();
          body.append('model', 'whisper-1');
          body.append('file', file);
        }
        const headers = { Authorization: 'Bearer ' + k.key };
        if (!k.multipart) headers['Content-Type'] = 'audio/wav';
        try {
          const r = await fetch(k.path, { method: 'POST', headers, body });
          out.push({ name: k.name, status: r.status, json: await r.json() });
        } catch (e) {
          out.push({ name: k.name, status: null, error: String(e) });
        }
      }
      return out;
    }, { cases: c.cases, size: c.size });
  } finally {
    await b.close();
  }
}

(async () => {
  const out = { sdk: await sdk(), browser: await browser() };
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
