// The transcript and search screens in the real Chromium: a jfk.wav upload processed through the
// OpenAI-compatible stand-in (made to answer JFK's words), the text shown, the waveform drawn
// from the server's peaks, a speaker renamed everywhere, a word corrected and found by search, a
// search result opening the recording at its second, the SRT export; screenshots and axe-core
// in French and English.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ctx } from '../lib/context.mjs';
import { apiCall, control, meetingWithJfk } from '../lib/api.mjs';
import { checkA11y, freshPage, signIn } from '../lib/browser.mjs';
import { USERS } from '../lib/server.mjs';

// 16 words, 0.5 s apart, 4 s segments: 0–4 "ask not what your country can do for",
// 4–8 "you ask what you can do for your", 8–11 the first line again.
const WORDS = 'ask not what your country can do for you ask what you can do for your'.split(' ');

async function uploadJfk(page) {
  return (await meetingWithJfk(page)).recordingId;
}

async function setLanguage(page, lang) {
  await page.evaluate((l) => localStorage.setItem('crm-ai.lang', l), lang);
  await page.reload();
}

test('transcript: text, waveform, rename, correction, search at the second, SRT export', { timeout: 150_000 }, async () => {
  const { baseUrl } = ctx.stack;
  await control({ words: WORDS, segment_seconds: 4, word_seconds: 0.5 });
  const page = await freshPage(ctx.browser.context, baseUrl);
  try {
    await signIn(page, baseUrl, USERS.owner);
    const id = await uploadJfk(page);

    await page.goto(`${baseUrl}/recordings/${id}`);
    await page.getByText('ask not what your country').first().waitFor();
    // The waveform comes from the server's peaks (no decode in the browser): drawn, and the
    // audio element streams the file with byte ranges.
    await page.getByTestId('waveform').waitFor();
    await page.waitForFunction(() => {
      const host = document.querySelector('[data-testid="waveform"] > div');
      return !!host && !!host.shadowRoot?.querySelector('canvas');
    });
    const audio = await page.evaluate(() => {
      const a = document.querySelector('[data-testid="audio"]');
      return { src: a.currentSrc, preload: a.preload };
    });
    assert.match(audio.src, new RegExp(`/api/recordings/${id}/audio$`));

    // Speakers: rename the first once, the name shows on every segment of theirs.
    const t = (await apiCall(page, 'GET', `/api/recordings/${id}/transcript`)).json;
    assert.ok(t.speakers.length >= 1, 'no speaker found by diarization');
    const label = t.speakers[0].label;
    const theirs = t.segments.filter((s) => s.speaker === label).length;
    await page.getByRole('button', { name: `Renommer Intervenant ${label}` }).click();
    await page.getByLabel(`Nom de ${label}`).fill('Président Kennedy');
    await page.getByTestId(`speaker-${label}`).getByRole('button', { name: 'Enregistrer' }).click();
    await page.getByText('Intervenant renommé partout dans la transcription.').waitFor();
    await page.waitForFunction(
      (n) => [...document.querySelectorAll('.tr-speaker')].filter((e) => e.textContent === 'Président Kennedy').length === n,
      theirs,
    );

    // Correct a word of the second segment (4 s): saved with its version, marked as corrected.
    const second = page.getByTestId('segment').nth(1);
    await second.getByRole('button', { name: 'Corriger le segment de 0:04' }).click();
    const box = second.getByLabel('Texte du segment');
    assert.equal(await box.inputValue(), 'you ask what you can do for your');
    await box.fill('you ask whether you can do for your');
    await second.getByRole('button', { name: 'Enregistrer' }).click();
    await page.getByText('Correction enregistrée.').waitFor();
    await second.locator('.tr-edited', { hasText: 'whether' }).waitFor();
    await checkA11y(page, 'transcript fr', ctx.axe);
    await ctx.shots.shot(page, 'transcript-fr');

    // Keyboard: space plays and pauses.
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press('Space');
    await page.waitForFunction(() => !document.querySelector('[data-testid="audio"]').paused);
    await page.keyboard.press('Space');
    await page.waitForFunction(() => document.querySelector('[data-testid="audio"]').paused);

    // Export SRT: a download with the corrected text and the speaker's name.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      (async () => {
        await page.getByRole('button', { name: 'Exporter' }).click();
        await page.getByRole('menuitem', { name: 'Exporter en SRT' }).click();
      })(),
    ]);
    assert.match(download.suggestedFilename(), /\.srt$/);
    const srt = readFileSync(await download.path(), 'utf8');
    assert.match(srt, /00:00:04,000 --> /);
    assert.match(srt, /whether/);

    // Search finds the corrected word; the result opens the recording at 4 s, playing.
    await page.goto(`${baseUrl}/search`);
    await page.getByLabel('Rechercher dans les transcriptions, clients et rendez-vous').fill('whether');
    const hit = page.getByTestId('search-hit').first();
    await hit.locator('mark', { hasText: 'whether' }).waitFor();
    await checkA11y(page, 'search fr', ctx.axe);
    await ctx.shots.shot(page, 'search-fr');
    await setLanguage(page, 'en');
    await page.getByTestId('search-hit').first().waitFor();
    await checkA11y(page, 'search en', ctx.axe);
    await ctx.shots.shot(page, 'search-en');
    await page.getByTestId('search-hit-open').first().click();
    await page.waitForURL(new RegExp(`/recordings/${id}\\?t=4`));
    await page.waitForFunction(() => {
      const a = document.querySelector('[data-testid="audio"]');
      return a && a.currentTime >= 3.9 && a.currentTime < 7;
    });
    const state = await page.evaluate(() => {
      const a = document.querySelector('[data-testid="audio"]');
      return { time: a.currentTime, paused: a.paused };
    });
    assert.ok(state.time >= 3.9 && state.time < 7, `currentTime ${state.time}`);
    // The segment playing is highlighted.
    await page.locator('[data-testid="segment"][aria-current="true"]', { hasText: 'whether' }).waitFor();
    await page.evaluate(() => document.querySelector('[data-testid="audio"]').pause());
    await checkA11y(page, 'transcript en', ctx.axe);
    await ctx.shots.shot(page, 'transcript-en');
    assert.deepEqual(page.problems, []);
  } finally {
    await control({ reset: true });
    await page.close();
  }
});
