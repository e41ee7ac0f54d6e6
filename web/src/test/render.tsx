// Renders a component as the application does (Mantine, TanStack Query without retries, a router
// at `url`), for the unit tests; jsdom lacks matchMedia and scrollIntoView, which Mantine uses.
import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { MemoryRouter } from 'react-router-dom';
import '../i18n';

export function stubBrowser(): void {
  if (!window.matchMedia)
    Object.defineProperty(window, 'matchMedia', {
      value: () => ({ matches: false, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }),
    });
  window.HTMLElement.prototype.scrollIntoView = () => {};
  if (!('ResizeObserver' in window))
    Object.defineProperty(window, 'ResizeObserver', {
      value: class {
        observe() {}
        unobserve() {}
        disconnect() {}
      },
    });
}

export function renderWithApp(ui: ReactNode, url = '/') {
  stubBrowser();
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return {
    qc,
    ...render(
      <MantineProvider>
        <QueryClientProvider client={qc}>
          <MemoryRouter initialEntries={[url]}>{ui}</MemoryRouter>
        </QueryClientProvider>
      </MantineProvider>,
    ),
  };
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}
