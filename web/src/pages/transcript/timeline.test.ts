import { describe, expect, it } from 'vitest';
import {
  base64UrlToBytes,
  diffWords,
  formatClock,
  peaksToChannel,
  positionAt,
  segmentAt,
  speakerColour,
  speakerTurns,
  startTimeFromSearch,
  wordAt,
  wordIndexAtCaret,
} from './timeline';
import type { Segment, Word } from './types';

function w(start: number, end: number, text: string): Word {
  return { start, end, text, confidence: 0.9, edited: false };
}

function seg(index: number, start: number, end: number, speaker: string | null, words: Word[] = []): Segment {
  return {
    id: `s${index}`,
    index,
    start,
    end,
    speaker,
    speaker_name: null,
    text: words.map((x) => x.text.trim()).join(' '),
    engine_text: '',
    edited: false,
    version: 1,
    updated_at: '',
    words,
  };
}

const segments = [
  seg(0, 0, 2, 'A', [w(0, 0.5, ' ask'), w(0.6, 1, ' not'), w(1.2, 2, ' what')]),
  seg(1, 2.5, 4, 'B', [w(2.5, 3, ' your'), w(3.1, 4, ' country')]),
  seg(2, 4, 6, 'B'),
  seg(3, 9, 10, 'A'),
];

describe('segmentAt / wordAt', () => {
  it('finds the segment and word under the playhead', () => {
    expect(segmentAt(segments, -1)).toBe(-1);
    expect(segmentAt(segments, 0)).toBe(0);
    expect(segmentAt(segments, 2.2)).toBe(0); // pause: the previous segment stays current
    expect(segmentAt(segments, 3.5)).toBe(1);
    expect(segmentAt(segments, 4)).toBe(2); // a boundary belongs to the one starting there
    expect(segmentAt(segments, 100)).toBe(3);
    expect(wordAt(segments[0].words, 0.55)).toBe(0);
    expect(wordAt(segments[0].words, 0.6)).toBe(1);
    expect(wordAt(segments[0].words, 1.9)).toBe(2);
    expect(wordAt(segments[1].words, 2.4)).toBe(-1);
    expect(wordAt([], 1)).toBe(-1);
  });

  it('positions the playhead on a word, or on no word between segments', () => {
    expect(positionAt(segments, 3.2)).toEqual({ segment: 1, word: 1 });
    expect(positionAt(segments, 7)).toEqual({ segment: 2, word: -1 });
    expect(positionAt(segments, -0.5)).toBeNull();
  });

  it('is fast on a two-hour transcript', () => {
    const many: Segment[] = [];
    for (let i = 0; i < 3000; i++)
      many.push(seg(i, i * 2.4, i * 2.4 + 2, 'A', Array.from({ length: 8 }, (_, k) => w(i * 2.4 + k * 0.25, i * 2.4 + k * 0.25 + 0.2, ' x'))));
    const t0 = performance.now();
    for (let k = 0; k < 10000; k++) positionAt(many, (k * 0.71) % 7200);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(positionAt(many, 2.4 * 1500 + 0.3)).toEqual({ segment: 1500, word: 1 });
  });
});

describe('speaker turns and colours', () => {
  it('joins consecutive segments of one speaker', () => {
    expect(speakerTurns(segments)).toEqual([
      { start: 0, end: 2, speaker: 'A' },
      { start: 2.5, end: 6, speaker: 'B' },
      { start: 9, end: 10, speaker: 'A' },
    ]);
  });
  it('gives each label its colour and unknown speakers grey', () => {
    expect(speakerColour(['A', 'B'], 'A')).not.toBe(speakerColour(['A', 'B'], 'B'));
    expect(speakerColour(['A', 'B'], null)).toBe('#495057');
  });
});

describe('peaks', () => {
  it('decodes base64url int8 pairs into floats', () => {
    // bytes: -127, 127, 0, 64 → "gX8AQA"
    expect(Array.from(base64UrlToBytes('gX8AQA'))).toEqual([129, 127, 0, 64]);
    const ch = peaksToChannel('gX8AQA');
    expect(ch[0]).toBeCloseTo(-1);
    expect(ch[1]).toBeCloseTo(1);
    expect(ch[2]).toBe(0);
    expect(ch[3]).toBeCloseTo(64 / 127);
    expect(peaksToChannel('').length).toBe(0);
  });
});

describe('editing helpers', () => {
  it('finds the word a caret splits before', () => {
    const text = 'ask not what your country';
    expect(wordIndexAtCaret(text, 0)).toBe(0);
    expect(wordIndexAtCaret(text, 4)).toBe(1);
    expect(wordIndexAtCaret(text, 3)).toBe(1); // right after "ask"
    expect(wordIndexAtCaret(text, 9)).toBe(2); // inside "what", before its middle
    expect(wordIndexAtCaret(text, 11)).toBe(3); // past its middle
    expect(wordIndexAtCaret(text, text.length)).toBe(5);
  });

  it('marks the words a correction introduced, ignoring case and punctuation', () => {
    expect(diffWords('ask not what your country can do', 'Ask not, what your nation can do.')).toEqual([
      { word: 'Ask', changed: false },
      { word: 'not,', changed: false },
      { word: 'what', changed: false },
      { word: 'your', changed: false },
      { word: 'nation', changed: true },
      { word: 'can', changed: false },
      { word: 'do.', changed: false },
    ]);
    expect(diffWords('', 'Bonjour')).toEqual([{ word: 'Bonjour', changed: true }]);
    expect(diffWords('Hélène', 'helene')[0].changed).toBe(false);
  });

  it('writes clock times and reads ?t=', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(75.4)).toBe('1:15');
    expect(formatClock(3725)).toBe('1:02:05');
    expect(formatClock(NaN)).toBe('0:00');
    expect(startTimeFromSearch('?t=12.5&play=1')).toBe(12.5);
    expect(startTimeFromSearch('?t=-3')).toBeNull();
    expect(startTimeFromSearch('?t=abc')).toBeNull();
    expect(startTimeFromSearch('')).toBeNull();
  });
});
