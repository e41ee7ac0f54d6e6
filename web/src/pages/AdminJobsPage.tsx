// Background jobs: queue depth and throughput (platform admin: every firm), the jobs of the
// firm (platform admin: of every firm, or one) that failed, with their error and a retry.
import { Button, Card, Code, Group, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
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

function JobTable({ jobs, canRetry, firmNames }: { jobs: Job[]; canRetry: boolean; firmNames?: Map<string, string> }) {
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
            {firmNames && <Table.Th>{t('jobs.firm')}</Table.Th>}
            <Table.Th>{t('jobs.kind')}</Table.Th>
            <Table.Th>{t('jobs.error')}</Table.Th>
            <Table.Th>{t('jobs.attempts')}</Table.Th>
            <Table.Th>{t('jobs.when')}</Table.Th>
            {canRetry && <Table.Th>{t('common.actions')}</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {jobs.map((j) => (
            <Table.Tr key={j.id} data-testid="job-row" data-state={j.state}>
              {firmNames && <Table.Td>{(j.firm_id && firmNames.get(j.firm_id)) || t('jobs.noFirm')}</Table.Td>}
              <Table.Td>
                <Stack gap={0}>
                  <Text size="sm">{j.kind}</Text>
                  <Text size="xs" c="dimmed">
                    {t(`jobs.state_${j.state}`, { defaultValue: j.state })}
                  </Text>
                </Stack>
              </Table.Td>
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
                  {(j.state === 'failed' || j.state === 'cancelled') && (
                    <Button
                      size="xs"
                      onClick={() => retry.mutate(j.id)}
                      loading={retry.isPending && retry.variables === j.id}
                      aria-label={`${t('jobs.retry')} ${j.kind}`}
                    >
                      {t('jobs.retry')}
                    </Button>
                  )}
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

  if (platform) return <PlatformJobs />;

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

interface Firm {
  id: string;
  name: string;
}

// The platform admin's view: the whole queue, every firm's jobs by state (or one firm's), with
// the failed ones' errors and a retry; the retry is audited in the job's firm and the platform.
function PlatformJobs() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [state, setState] = useState('failed');
  const [firm, setFirm] = useState<string | null>(null);
  const global = useQuery({
    queryKey: ['jobs', 'admin'],
    queryFn: () => api.get<{ stats: Stats; recent_failures: Job[] }>('/api/admin/jobs'),
    refetchInterval: 10_000,
  });
  const firms = useQuery({ queryKey: ['admin', 'firms'], queryFn: () => api.get<Page<Firm>>('/api/admin/firms') });
  const jobs = useQuery({
    queryKey: ['jobs', 'platform', state, firm],
    queryFn: () => api.get<Page<Job>>('/api/jobs', { query: { state: state === 'all' ? undefined : state, firm_id: firm, limit: 100 } }),
    refetchInterval: 10_000,
  });
  const names = new Map((firms.data?.data ?? []).map((f) => [f.id, f.name]));
  if (global.isPending) return <PageLoader />;
  if (global.isError) return <ErrorState error={global.error} onRetry={() => void global.refetch()} />;
  const s = global.data.stats;
  return (
    <Stack>
      <Title order={1}>{t('jobs.platformTitle')}</Title>
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <StatCard label={t('jobs.depth')} value={formatNumber(s.depth, lang)} />
        <StatCard label={t('jobs.running')} value={formatNumber(s.running, lang)} />
        <StatCard label={t('jobs.failedCount')} value={formatNumber(s.failed, lang)} />
        <StatCard label={t('jobs.throughput')} value={formatNumber(s.throughput_per_minute, lang, 1)} />
      </SimpleGrid>
      {s.oldest_due_age_seconds !== null && <Text size="sm">{t('jobs.oldest', { seconds: formatNumber(s.oldest_due_age_seconds, lang) })}</Text>}
      <Title order={2} size="h3">
        {t('jobs.allFirms')}
      </Title>
      <Group align="flex-end" wrap="wrap">
        <SegmentedControl
          aria-label={t('jobs.stateFilter')}
          value={state}
          onChange={setState}
          data={['failed', 'queued', 'running', 'cancelled', 'all'].map((v) => ({ value: v, label: t(`jobs.filter_${v}`) }))}
        />
        <Select
          label={t('jobs.firm')}
          placeholder={t('jobs.everyFirm')}
          clearable
          searchable
          value={firm}
          onChange={setFirm}
          data={(firms.data?.data ?? []).map((f) => ({ value: f.id, label: f.name }))}
          w={240}
        />
      </Group>
      {jobs.isPending ? (
        <PageLoader />
      ) : jobs.isError ? (
        <ErrorState error={jobs.error} onRetry={() => void jobs.refetch()} />
      ) : jobs.data.data.length === 0 ? (
        <EmptyState title={state === 'failed' ? t('jobs.noFailures') : t('jobs.none')} />
      ) : (
        <JobTable jobs={jobs.data.data} canRetry firmNames={names} />
      )}
    </Stack>
  );
}
