// The shared loading / error with retry / empty / data states of a query.
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, screen } from '@testing-library/react';
import { ApiError } from '../api/client';
import { renderWithApp } from '../test/render';
import { isEmptyList, LoadMore, QueryState, type QueryLike } from './QueryState';

type Rows = { data: string[] };
const q = (over: Partial<QueryLike<Rows>>): QueryLike<Rows> => ({ isPending: false, isError: false, error: null, data: undefined, refetch: vi.fn(), ...over });

describe('QueryState', () => {
  it('says it is loading while the query is pending', () => {
    renderWithApp(<QueryState query={q({ isPending: true })}>{() => <p>rows</p>}</QueryState>);
    expect(screen.getByRole('status').textContent).toContain('Chargement');
    expect(screen.queryByText('rows')).toBeNull();
  });

  it("shows the server's message and retries", () => {
    const refetch = vi.fn();
    renderWithApp(
      <QueryState query={q({ isError: true, error: new ApiError(503, 'unavailable', 'Service indisponible / Service unavailable'), refetch })}>
        {() => <p>rows</p>}
      </QueryState>,
    );
    expect(screen.getByRole('alert').textContent).toContain('Service indisponible');
    fireEvent.click(screen.getByRole('button', { name: 'Réessayer' }));
    expect(refetch).toHaveBeenCalledTimes(1);
  });

  it('shows the empty state for an empty list and the data otherwise', () => {
    const { unmount } = renderWithApp(
      <QueryState query={q({ data: { data: [] } })} empty={<p>nothing yet</p>}>
        {(d) => <p>{d.data.join(',')}</p>}
      </QueryState>,
    );
    expect(screen.getByText('nothing yet')).toBeTruthy();
    unmount();
    renderWithApp(
      <QueryState query={q({ data: { data: ['a', 'b'] } })} empty={<p>nothing yet</p>}>
        {(d) => <p>{d.data.join(',')}</p>}
      </QueryState>,
    );
    expect(screen.getByText('a,b')).toBeTruthy();
    expect(screen.queryByText('nothing yet')).toBeNull();
  });

  it('knows an empty page, list of pages and array', () => {
    expect(isEmptyList({ data: [] })).toBe(true);
    expect(isEmptyList({ pages: [{ data: [] }, { data: [] }] })).toBe(true);
    expect(isEmptyList({ pages: [{ data: [] }, { data: [1] }] })).toBe(false);
    expect(isEmptyList([])).toBe(true);
    expect(isEmptyList({ id: 'x' })).toBe(false);
  });

  it('offers the next page only when there is one', () => {
    const fetchNextPage = vi.fn();
    const { unmount } = renderWithApp(<LoadMore query={{ hasNextPage: false, isFetchingNextPage: false, fetchNextPage }} />);
    expect(screen.queryByRole('button')).toBeNull();
    unmount();
    renderWithApp(<LoadMore query={{ hasNextPage: true, isFetchingNextPage: false, fetchNextPage }} />);
    fireEvent.click(screen.getByRole('button', { name: 'Afficher la suite' }));
    expect(fetchNextPage).toHaveBeenCalledTimes(1);
  });
});
