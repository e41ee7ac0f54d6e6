import { describe, expect, it } from 'vitest';
import { formatBytes, formatDate, formatDuration } from './format';

describe('format', () => {
  it('formats sizes per locale', () => {
    expect(formatBytes(1_500_000, 'fr')).toBe('1,5 Mo');
    expect(formatBytes(1_500_000, 'en')).toBe('1.5 MB');
    expect(formatBytes(12, 'fr')).toBe('12 o');
  });
  it('formats durations', () => {
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Number.NaN)).toBe('–');
  });
  it('keeps a calendar date on its day whatever the time zone', () => {
    expect(formatDate('2026-03-01', 'en')).toBe('1 Mar 2026');
  });
});
