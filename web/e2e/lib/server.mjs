// Starts what the browser tests talk to: the OpenAI-compatible transcription stand-in and a real
// `crm-ai serve` on a free loopback port, with a fresh temporary DATA_DIR seeded with demo data.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const DEMO_PASSWORD = 'demo-crm-ai-2026';
export const USERS = {
  owner: 'dupont@dupont-avocats.fr',
  member: 'martin@dupont-avocats.fr',
  otherFirm: 'lefevre@fiduciaire-lefevre.fr',
  platform: 'admin@crm-ai.local',
};

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function waitForLine(child, pattern, timeoutMs, what) {
  return new Promise((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error(`${what}: no "${pattern}" after ${timeoutMs} ms; output: ${buf.slice(-2000)}`)), timeoutMs);
    const onData = (d) => {
      buf += d.toString();
      const m = buf.match(pattern);
      if (m) {
        clearTimeout(timer);
        res(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${what} exited with ${code}: ${buf.slice(-2000)}`));
    });
  });
}

async function waitReady(url, timeoutMs) {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready at ${url}: ${last}`);
}

export async function startStack({ bin, repoRoot, logDir }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'crm-e2e-'));
  const standIn = spawn('/usr/bin/python3', [resolve(repoRoot, 'tests/stand_ins/openai_stand_in.py'), '--api-key', 'sk-e2e'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [, openaiUrl] = await waitForLine(standIn, /LISTENING (\S+)/, 10_000, 'openai stand-in');
  const port = await freePort();
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    APP_ENV: 'local',
    APP_HOST: '127.0.0.1',
    APP_PORT: String(port),
    APP_URL: `http://127.0.0.1:${port}`,
    TRANSCRIPTION_MODE: 'openai',
    OPENAI_BASE_URL: openaiUrl,
    OPENAI_API_KEY: 'sk-e2e',
    DIARIZATION: 'on', // speakers to name on the transcript screen (jfk.wav: a second or so)
    RATE_LIMIT_LOGIN: 'off',
    RATE_LIMIT_API: 'off',
    QUEUE_WORKERS: '1',
    // Small, so the over-the-limit refusal is tested without a 200 MB file.
    UPLOAD_MAX_BYTES: '4000000',
    // Mails stay in the outbox, readable in the UI (the built-in stand-in for a mail catcher).
    MAIL_MAILER: 'outbox',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  };
  const seed = spawnSync(bin, ['seed'], { env, encoding: 'utf8', cwd: dataDir });
  if (seed.status !== 0) throw new Error(`crm-ai seed failed (${seed.status}): ${seed.stderr}`);
  const logPath = join(logDir, 'server.log');
  const logFd = openSync(logPath, 'w');
  // Started from the data dir, not the source tree: the web files must be found beside the binary.
  const server = spawn(bin, ['serve'], { env, cwd: dataDir, stdio: ['ignore', logFd, logFd] });
  const baseUrl = `http://127.0.0.1:${port}`;
  const exited = new Promise((res) => server.on('exit', (code) => res(code)));
  await Promise.race([
    waitReady(`${baseUrl}/health/ready`, 30_000),
    exited.then((code) => {
      throw new Error(`crm-ai serve exited with ${code}; see ${logPath}`);
    }),
  ]);
  return {
    baseUrl,
    dataDir,
    env,
    logPath,
    async stop() {
      for (const child of [server, standIn]) {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
