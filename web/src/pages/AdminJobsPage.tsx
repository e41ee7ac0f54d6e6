// Background jobs: queue depth and throughput (platform admin: every firm), the jobs of the
// firm that failed, with their error and a retry.
import { Alert, Button, Card, Code, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { notify } from '../lib/notify';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, type Page } from '../api/client';
import { hasRole, useSession } from '../api/session';
import { EmptyState, ErrorState, PageLoader, pickLanguage, useErrorMessage } from '../components/States';
import { formatDateTime, formatNumber } from '../lib/format';

interface Job {
  id: string;
  firm_id: string | null;
  kind: string;
  state: string;
  attempts: number;
  max_attempts: number;
  progress: { percent: number; stage: string | null };
  error: { code: string; message: string } | null;
  updated_at: string;
}
interface Stats {
  depth: number;
  scheduled: number;
  running: number;
  failed: number;
  cancelled: number;
  succeeded_last_hour: number;
  throughput_per_minute: number;
  oldest_due_age_seconds: number | null;
}

function StatCard({ label, value }: { label: string; value: string }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={700} size="xl">
        {value}
      </Text>
    </Card>
  );
}

function JobTable({ jobs, canRetry }: { jobs: Job[]; canRetry: boolean }) {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const retry = useMutation({
    mutationFn: (id: string) => api.post(`/api/jobs/${id}/retry`),
    onSuccess: () => {
      notify({ color: 'green', message: t('jobs.retried') });
      void qc.invalidateQueries({ queryKey: ['jobs'] });
    },
    onError: (e) => notify({ color: 'red', title: t('errors.title'), message: errorMessage(e) }),
  });
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table aria-label={t('jobs.failed')}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('jobs.kind')}</Table.Th>
            <Table.Th>{t('jobs.error')}</Table.Th>
            <Table.Th>{t('jobs.attempts')}</Table.Th>
            <Table.Th>{t('jobs.when')}</Table.Th>
            {canRetry && <Table.Th>{t('common.actions')}</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {jobs.map((j) => (
            <Table.Tr key={j.id}>
              <Table.Td>{j.kind}</Table.Td>
              <Table.Td>
                {j.error ? (
                  <Stack gap={0}>
                    <Code>{j.error.code}</Code>
                    <Text size="sm">{pickLanguage(j.error.message, i18n.language)}</Text>
                  </Stack>
                ) : (
                  t('common.none')
                )}
              </Table.Td>
              <Table.Td>
                {j.attempts} / {j.max_attempts}
              </Table.Td>
              <Table.Td>{formatDateTime(j.updated_at, i18n.language)}</Table.Td>
              {canRetry && (
                <Table.Td>
                  <Button size="xs" onClick={() => retry.mutate(j.id)} loading={retry.isPending && retry.variables === j.id}>
                    {t('jobs.retry')}
                  </Button>
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export default function AdminJobsPage() {
  const { t, i18n } = useTranslation();
  const { me } = useSession();
  const platform = hasRole(me, 'platform_admin');
  const lang = i18n.language;
  const global = useQuery({
    queryKey: ['jobs', 'admin'],
    queryFn: () => api.get<{ stats: Stats; recent_failures: Job[] }>('/api/admin/jobs'),
    enabled: platform,
    refetchInterval: 10_000,
  });
  const failed = useQuery({
    queryKey: ['jobs', 'failed'],
    queryFn: () => api.get<Page<Job>>('/api/jobs', { query: { state: 'failed', limit: 100 } }),
    enabled: !platform,
    refetchInterval: 10_000,
  });
  const queued = useQuery({
    queryKey: ['jobs', 'queued'],
    queryFn: () => api.get<Page<Job>>('/api/jobs', { query: { state: 'queued', limit: 200 } }),
    enabled: !platform,
    refetchInterval: 10_000,
  });
  const running = useQuery({
    queryKey: ['jobs', 'running'],
    queryFn: () => api.get<Page<Job>>('/api/jobs', { query: { state: 'running', limit: 200 } }),
    enabled: !platform,
    refetchInterval: 10_000,
  });

  if (platform) {
    if (global.isPending) return <PageLoader />;
    if (global.isError) return <ErrorState error={global.error} onRetry={() => void global.refetch()} />;
    const s = global.data.stats;
    return (
      <Stack>
        <Title order={1}>{t('jobs.title')}</Title>
        <SimpleGrid cols={{ base: 2, sm: 4 }}>
          <StatCard label={t('jobs.depth')} value={formatNumber(s.depth, lang)} />
          <StatCard label={t('jobs.running')} value={formatNumber(s.running, lang)} />
          <StatCard label={t('jobs.failedCount')} value={formatNumber(s.failed, lang)} />
          <StatCard label={t('jobs.throughput')} value={formatNumber(s.throughput_per_minute, lang, 1)} />
        </SimpleGrid>
        {s.oldest_due_age_seconds !== null && <Text size="sm">{t('jobs.oldest', { seconds: formatNumber(s.oldest_due_age_seconds, lang) })}</Text>}
        <Title order={2} size="h3">
          {t('jobs.failed')}
        </Title>
        {global.data.recent_failures.length === 0 ? (
          <EmptyState title={t('jobs.noFailures')} />
        ) : (
          <>
            <Alert color="blue">{t('jobs.platformRetryHint')}</Alert>
            <JobTable jobs={global.data.recent_failures} canRetry={false} />
          </>
        )}
      </Stack>
    );
  }

  const loading = failed.isPending || queued.isPending || running.isPending;
  const error = failed.error ?? queued.error ?? running.error;
  return (
    <Stack>
      <Title order={1}>{t('jobs.title')}</Title>
      {loading ? (
        <PageLoader />
      ) : error ? (
        <ErrorState error={error} onRetry={() => void Promise.all([failed.refetch(), queued.refetch(), running.refetch()])} />
      ) : (
        <>
          <SimpleGrid cols={{ base: 3 }}>
            <StatCard label={t('jobs.depth')} value={formatNumber(queued.data!.data.length, lang)} />
            <StatCard label={t('jobs.running')} value={formatNumber(running.data!.data.length, lang)} />
            <StatCard label={t('jobs.failedCount')} value={formatNumber(failed.data!.data.length, lang)} />
          </SimpleGrid>
          <Title order={2} size="h3">
            {t('jobs.failed')}
          </Title>
          {failed.data!.data.length === 0 ? <EmptyState title={t('jobs.noFailures')} /> : <JobTable jobs={failed.data!.data} canRetry={hasRole(me, 'admin')} />}
          <Group />
        </>
      )}
    </Stack>
  );
}
