import { describe, expect, it } from 'vitest';
import { hitLink, snippetParts } from './snippet';

describe('snippetParts', () => {
  it('splits marks out and unescapes entities without producing markup', () => {
    expect(snippetParts('…la succession d&#39;<mark>Hélène</mark> &lt;Martin&gt; et <mark>fils</mark>')).toEqual([
      { text: "…la succession d'", mark: false },
      { text: 'Hélène', mark: true },
      { text: ' <Martin> et ', mark: false },
      { text: 'fils', mark: true },
    ]);
    expect(snippetParts('')).toEqual([]);
    expect(snippetParts('&lt;script&gt;')).toEqual([{ text: '<script>', mark: false }]);
  });
  it('links a hit to its second, playing', () => {
    expect(hitLink('01J', 12.345)).toBe('/recordings/01J?t=12.3&play=1');
    expect(hitLink('a b', null)).toBe('/recordings/a%20b?t=0&play=1');
  });
});
