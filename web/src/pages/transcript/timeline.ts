// Pure logic of the transcript screen: where the playhead is in the text, the speaker turns drawn
// on the waveform, the server's peaks decoded for wavesurfer, the word under a caret (to split a
// segment there), which words a correction changes, and times written for people.

import type { Segment, Word } from './types';

// Below this confidence a word is marked for checking.
export const LOW_CONFIDENCE = 0.5;

export interface WordPosition {
  segment: number; // index into segments
  word: number; // index into that segment's words, -1 when the segment has no words
}

// The segment playing at `t`: the last one starting at or before t that has not ended, else the
// last one started (in a silence between segments the previous one stays current). -1 before
// the first. Segments are in time order.
export function segmentAt(segments: Segment[], t: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid].start <= t) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

// The word being spoken at `t` within a segment's words: the last word starting at or before t
// (in a pause the word just spoken stays current). -1 before the first word.
export function wordAt(words: Word[], t: number): number {
  let lo = 0;
  let hi = words.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (words[mid].start <= t) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

export function positionAt(segments: Segment[], t: number): WordPosition | null {
  const s = segmentAt(segments, t);
  if (s < 0) return null;
  const seg = segments[s];
  if (t > seg.end + 0.01 && s + 1 < segments.length) return { segment: s, word: -1 };
  return { segment: s, word: seg.words.length ? wordAt(seg.words, t) : -1 };
}

export interface Turn {
  start: number;
  end: number;
  speaker: string | null;
}

// Consecutive segments of one speaker become one turn (the regions on the waveform).
export function speakerTurns(segments: Segment[]): Turn[] {
  const out: Turn[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    if (last && last.speaker === s.speaker && s.start - last.end < 1.0) last.end = Math.max(last.end, s.end);
    else out.push({ start: s.start, end: s.end, speaker: s.speaker });
  }
  return out;
}

// A colour per speaker label, stable in the order speakers first appear; each at least 4.5:1
// against white and the highlighted segment's grey, since speaker names are written in it
// (WCAG AA).
export const SPEAKER_COLOURS = ['#1864ab', '#a63e00', '#237032', '#862e9c', '#a61e4d', '#0b7285', '#5f3dc4', '#7a5200'];
export const UNKNOWN_SPEAKER_COLOUR = '#495057';
export function speakerColour(labels: string[], label: string | null): string {
  if (!label) return UNKNOWN_SPEAKER_COLOUR;
  const i = labels.indexOf(label);
  return SPEAKER_COLOURS[(i < 0 ? labels.length : i) % SPEAKER_COLOURS.length];
}

// base64url without padding → bytes.
export function base64UrlToBytes(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// The server's int8 (min, max) pairs as one channel of floats in [-1, 1], interleaved as
// wavesurfer draws them (it takes the largest magnitude per pixel).
export function peaksToChannel(data: string): Float32Array {
  const bytes = base64UrlToBytes(data);
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const v = bytes[i] > 127 ? bytes[i] - 256 : bytes[i];
    out[i] = v / 127;
  }
  return out;
}

// The index of the word a caret at `offset` (characters into `text`) falls before: the number of
// white-space separated words that end before it. A caret inside a word counts that word as
// before it when past its middle.
export function wordIndexAtCaret(text: string, offset: number): number {
  const re = /\S+/g;
  let index = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const start = m.index;
    const end = start + m[0].length;
    if (offset <= start) return index;
    if (offset < end) return offset - start > (end - start) / 2 ? index + 1 : index;
    index++;
  }
  return index;
}

export interface WordChange {
  word: string;
  changed: boolean; // new or different from the word it replaces
}

function key(w: string): string {
  return w
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

// The words of `after`, each marked changed when a correction of `before` introduced it (by the
// same rule as the server's alignment: case, accents and punctuation aside; longest common
// subsequence).
export function diffWords(before: string, after: string): WordChange[] {
  const a = before.split(/\s+/).filter(Boolean);
  const b = after.split(/\s+/).filter(Boolean);
  const ka = a.map(key);
  const kb = b.map(key);
  const n = a.length;
  const m = b.length;
  const len: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      len[i][j] = ka[i] === kb[j] && ka[i] !== '' ? len[i + 1][j + 1] + 1 : Math.max(len[i + 1][j], len[i][j + 1]);
  const out: WordChange[] = b.map((word) => ({ word, changed: true }));
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (ka[i] === kb[j] && ka[i] !== '') {
      out[j].changed = false;
      i++;
      j++;
    } else if (len[i + 1][j] >= len[i][j + 1]) i++;
    else j++;
  }
  return out;
}

// 75.4 → "1:15"; 3725 → "1:02:05".
export function formatClock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

export const SPEEDS = [0.75, 1, 1.25, 1.5, 1.75, 2] as const;

// Reads ?t= (seconds, possibly fractional) from a search string; null when absent or invalid.
export function startTimeFromSearch(search: string): number | null {
  const v = new URLSearchParams(search).get('t');
  if (v === null || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : null;
}
