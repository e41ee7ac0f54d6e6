// One way to show what a server query is at: loading, its error with a retry, an empty list, or
// its data; and, for a list read page by page, the button that loads the next page.
import { Button, Group } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorState, PageLoader } from './States';

// What QueryState reads of a TanStack query (useQuery or useInfiniteQuery results both fit).
export interface QueryLike<T> {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  data: T | undefined;
  refetch: () => unknown;
}

// A page ({ data: [...] }), a list of pages ({ pages: [{ data: [...] }] }) or an array with no item.
export function isEmptyList(data: unknown): boolean {
  if (Array.isArray(data)) return data.length === 0;
  if (data && typeof data === 'object') {
    const d = data as { data?: unknown; pages?: unknown };
    if (Array.isArray(d.pages)) return d.pages.every((p) => isEmptyList(p));
    if (Array.isArray(d.data)) return d.data.length === 0;
  }
  return false;
}

export function QueryState<T>({
  query,
  empty,
  isEmpty = isEmptyList,
  children,
}: {
  query: QueryLike<T>;
  // Shown instead of children when the data holds nothing (isEmpty), e.g. an <EmptyState>.
  empty?: ReactNode;
  isEmpty?: (data: T) => boolean;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <PageLoader />;
  if (query.isError || query.data === undefined) return <ErrorState error={query.error} onRetry={() => void query.refetch()} />;
  if (empty !== undefined && isEmpty(query.data)) return <>{empty}</>;
  return <>{children(query.data)}</>;
}

export function LoadMore({ query }: { query: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => unknown } }) {
  const { t } = useTranslation();
  if (!query.hasNextPage) return null;
  return (
    <Group justify="center">
      <Button variant="default" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
        {t('common.loadMore')}
      </Button>
    </Group>
  );
}
