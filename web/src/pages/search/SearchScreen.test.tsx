// The search screen against a stubbed /api/search: the query from the address, highlighted
// snippets rendered as text (markup from the server never becomes elements), and a transcript
// hit linking to its second, playing.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router-dom';
import '../../i18n';
import { SearchScreen } from './SearchScreen';

function renderAt(url: string) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <MantineProvider>
      <QueryClientProvider client={qc}>
        <MemoryRouter initialEntries={[url]}>
          <SearchScreen />
        </MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('SearchScreen', () => {
  it('shows hits with their marks and opens a transcript hit at its second', async () => {
    const fetchMock = vi.fn(async () =>
      new Response(
        JSON.stringify({
          data: [
            {
              type: 'transcript',
              client: { id: 'c1', name: 'Hélène Martin' },
              meeting: { id: 'm1', title: 'Succession' },
              recording_id: 'r1',
              segment_id: 's1',
              start: 64.25,
              snippet: 'la succession d&#39;<mark>Hélène</mark> &lt;img src=x onerror=alert(1)&gt;',
            },
          ],
          next_cursor: null,
        }),
        { status: 200, headers: { 'Content-Type': 'application/json' } },
      ),
    );
    vi.stubGlobal('fetch', fetchMock);
    if (!window.matchMedia)
      Object.defineProperty(window, 'matchMedia', {
        value: () => ({ matches: false, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }),
      });
    window.HTMLElement.prototype.scrollIntoView = () => {};
    renderAt('/search?q=helene');
    const hit = await screen.findByTestId('search-hit');
    expect(String((fetchMock.mock.calls as unknown[][])[0][0])).toContain('/api/search?q=helene');
    expect(within(hit).getByText('Hélène').tagName).toBe('MARK');
    expect(hit.querySelector('img')).toBeNull();
    expect(hit.textContent).toContain('<img src=x onerror=alert(1)>');
    expect(within(hit).getByTestId('search-hit-open').getAttribute('href')).toBe('/recordings/r1?t=64.2&play=1');
    expect(within(hit).getByText('Écouter à 1:04')).toBeTruthy();
  });
});
