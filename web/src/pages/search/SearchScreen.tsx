// Search across the firm's transcripts, clients and meetings: the query lives in the address
// (?q=), results come a page at a time with their highlighted snippet, and a transcript hit opens
// the recording at its second, playing.
import { useEffect, useState } from 'react';
import { Button, Group, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { api, type Page } from '../../api/client';
import { EmptyState, ErrorState, PageLoader } from '../../components/States';
import '../transcript/messages';
import { formatClock } from '../transcript/timeline';
import { hitLink, snippetParts } from './snippet';

export interface SearchHit {
  type: 'transcript' | 'client' | 'meeting';
  client: { id: string; name: string };
  meeting: { id: string; title: string } | null;
  recording_id: string | null;
  segment_id: string | null;
  start: number | null;
  snippet: string;
}

const PAGE = 20;

export function SearchScreen() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [q]);
  // Typing searches after a short pause; Enter searches at once.
  useEffect(() => {
    if (draft.trim() === q) return;
    const id = window.setTimeout(() => setParams(draft.trim() ? { q: draft.trim() } : {}, { replace: true }), 350);
    return () => window.clearTimeout(id);
  }, [draft, q, setParams]);

  const results = useInfiniteQuery({
    queryKey: ['search', q],
    enabled: q !== '',
    initialPageParam: '',
    queryFn: ({ pageParam, signal }) => api.get<Page<SearchHit>>('/api/search', { query: { q, limit: PAGE, cursor: pageParam }, signal }),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const hits = results.data?.pages.flatMap((p) => p.data) ?? [];

  return (
    <Stack>
      <Title order={1}>{t('search.title')}</Title>
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setParams(draft.trim() ? { q: draft.trim() } : {});
        }}
      >
        <Group align="flex-end">
          <TextInput
            style={{ flex: 1 }}
            label={t('search.label')}
            description={t('search.hint')}
            placeholder={t('search.placeholder')}
            value={draft}
            onChange={(e) => setDraft(e.currentTarget.value)}
            type="search"
            autoFocus
            data-testid="search-input"
          />
          <Button type="submit">{t('search.submit')}</Button>
        </Group>
      </form>
      {q === '' ? null : results.isLoading ? (
        <PageLoader />
      ) : results.isError ? (
        <ErrorState error={results.error} onRetry={() => void results.refetch()} />
      ) : hits.length === 0 ? (
        <EmptyState title={t('search.none', { q })} hint={t('search.none_hint')} />
      ) : (
        <>
          <Text size="sm" c="gray.7" role="status">
            {results.hasNextPage ? t('search.results_more', { count: hits.length }) : t('search.results', { count: hits.length })}
          </Text>
          <Stack component="ol" gap="xs" style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label={t('search.title')}>
            {hits.map((h, i) => (
              <HitItem key={`${h.type}-${h.segment_id ?? h.meeting?.id ?? h.client.id}-${i}`} hit={h} />
            ))}
          </Stack>
          {results.hasNextPage && (
            <Group>
              <Button variant="default" onClick={() => void results.fetchNextPage()} loading={results.isFetchingNextPage}>
                {t('search.more')}
              </Button>
            </Group>
          )}
        </>
      )}
    </Stack>
  );
}

function HitItem({ hit }: { hit: SearchHit }) {
  const { t } = useTranslation();
  const parts = snippetParts(hit.snippet);
  // Shade 9 on white meets WCAG AA contrast at this size.
  const colour = hit.type === 'transcript' ? 'blue.9' : hit.type === 'client' ? 'grape.9' : 'indigo.9';
  return (
    <Paper component="li" withBorder p="sm" data-testid="search-hit">
      <Group gap="xs" mb={4}>
        <Text size="xs" fw={700} tt="uppercase" c={colour}>
          {t(`search.type_${hit.type}`)}
        </Text>
        <Text size="sm" component={Link} to={`/clients/${encodeURIComponent(hit.client.id)}`} c="blue.8" td="underline">
          {t('search.client', { name: hit.client.name })}
        </Text>
        {hit.meeting && (
          <Text size="sm" component={Link} to={`/meetings/${encodeURIComponent(hit.meeting.id)}`} c="blue.8" td="underline">
            {t('search.meeting', { title: hit.meeting.title })}
          </Text>
        )}
      </Group>
      <Text size="sm" className="search-snippet">
        {parts.map((p, i) => (p.mark ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
      </Text>
      {hit.type === 'transcript' && hit.recording_id && (
        <Button component={Link} to={hitLink(hit.recording_id, hit.start)} size="compact-sm" variant="default" mt={6} data-testid="search-hit-open">
          {t('search.listen_at', { time: formatClock(hit.start ?? 0) })}
        </Button>
      )}
    </Paper>
  );
}
