// Tasks: mine or everyone's, open or done, by client, sorted by due date.
import { Group, SegmentedControl, Select, Stack, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { api, type Page } from '../api/client';
import type { Client, Task } from '../api/hooks';
import { useSession } from '../api/session';
import { EmptyState, ErrorState, PageLoader } from '../components/States';
import { NewTaskForm, TaskTable } from '../components/TaskList';

export default function TasksPage() {
  const { t } = useTranslation();
  const { me } = useSession();
  const [params, setParams] = useSearchParams();
  const who = params.get('who') ?? 'mine';
  const status = params.get('status') ?? 'open';
  const clientId = params.get('client') ?? '';
  const set = (k: string, v: string | null) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const clients = useQuery({
    queryKey: ['clients', 'names'],
    queryFn: () => api.get<Page<Client>>('/api/clients', { query: { limit: 200, sort: 'name' } }),
    staleTime: 60_000,
  });
  const tasks = useQuery({
    queryKey: ['tasks', { who, status, clientId, me: me?.user_id }],
    queryFn: () =>
      api.get<Page<Task>>('/api/tasks', {
        query: {
          assignee_user_id: who === 'mine' ? me?.user_id ?? '' : '',
          status: status === 'done' ? 'done' : '',
          client_id: clientId,
          sort: 'due_date',
          limit: 200,
        },
      }),
  });
  const names = Object.fromEntries((clients.data?.data ?? []).map((c) => [c.id, c.name]));
  const shown = (tasks.data?.data ?? []).filter((x) => (status === 'open' ? x.status !== 'done' && x.status !== 'cancelled' : true));
  // Undated tasks after the dated ones.
  shown.sort((a, b) => (a.due_date ?? '9999') .localeCompare(b.due_date ?? '9999'));

  return (
    <Stack>
      <Title order={1}>{t('tasks.title')}</Title>
      <Group align="flex-end" wrap="wrap">
        <SegmentedControl
          aria-label={t('tasks.whose')}
          value={who}
          onChange={(v) => set('who', v === 'mine' ? null : v)}
          data={[
            { value: 'mine', label: t('tasks.mine') },
            { value: 'all', label: t('tasks.all') },
          ]}
        />
        <SegmentedControl
          aria-label={t('tasks.statusFilter')}
          value={status}
          onChange={(v) => set('status', v === 'open' ? null : v)}
          data={[
            { value: 'open', label: t('tasks.open') },
            { value: 'done', label: t('tasks.doneFilter') },
            { value: 'any', label: t('tasks.any') },
          ]}
        />
        <Select
          label={t('tasks.client')}
          value={clientId || null}
          onChange={(v) => set('client', v)}
          data={(clients.data?.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
          searchable
          clearable
          w={260}
        />
      </Group>
      {tasks.isPending ? (
        <PageLoader />
      ) : tasks.isError ? (
        <ErrorState error={tasks.error} onRetry={() => void tasks.refetch()} />
      ) : shown.length === 0 ? (
        <EmptyState title={t('tasks.empty')} hint={t('tasks.emptyHint')} />
      ) : (
        <TaskTable tasks={shown} showClient clientNames={names} />
      )}
      <NewTaskForm clientId={clientId || undefined} defaultAssignee={me?.user_id} />
    </Stack>
  );
}
