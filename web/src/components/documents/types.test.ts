import { describe, expect, it } from 'vitest';
import { kindOf } from './types';

describe('kindOf', () => {
  it('names the usual office formats', () => {
    expect(kindOf('application/pdf')).toBe('PDF');
    expect(kindOf('application/vnd.openxmlformats-officedocument.wordprocessingml.document')).toBe('Word');
    expect(kindOf('application/vnd.oasis.opendocument.text')).toBe('ODT');
    expect(kindOf('text/plain; charset=utf-8')).toBe('TXT');
    expect(kindOf('image/png')).toBe('PNG');
  });
  it('keeps an unknown type as the server wrote it', () => {
    expect(kindOf('application/x-unknown')).toBe('application/x-unknown');
  });
});
