// Tasks with their due dates, ticked done and back; a small form adds one.
import { Anchor, Badge, Button, Checkbox, Group, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api/client';
import { useUsers, userName, type Task } from '../api/hooks';
import { formatDate, todayIn } from '../lib/format';
import { useErrorMessage } from './States';
import { notify } from '../lib/notify';

export function TaskTable({ tasks, showClient, clientNames }: { tasks: Task[]; showClient?: boolean; clientNames?: Record<string, string> }) {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const users = useUsers();
  const errorMessage = useErrorMessage();
  const today = todayIn();
  const toggle = useMutation({
    mutationFn: (task: Task) =>
      api.patch<Task>(`/api/tasks/${task.id}`, { status: task.status === 'done' ? 'todo' : 'done' }, { headers: { 'If-Match': `"${task.version}"` } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['tasks'] }),
    onError: (e) => {
      notify({ color: 'red', title: t('errors.title'), message: errorMessage(e) });
      void qc.invalidateQueries({ queryKey: ['tasks'] });
    },
  });
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table aria-label={t('tasks.title')}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={60}>{t('tasks.done')}</Table.Th>
            <Table.Th>{t('tasks.task')}</Table.Th>
            <Table.Th>{t('tasks.due')}</Table.Th>
            <Table.Th>{t('tasks.assignee')}</Table.Th>
            {showClient && <Table.Th>{t('tasks.client')}</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {tasks.map((task) => {
            const late = task.status !== 'done' && task.status !== 'cancelled' && !!task.due_date && task.due_date < today;
            return (
              <Table.Tr key={task.id}>
                <Table.Td>
                  <Checkbox
                    aria-label={t('tasks.markDone', { title: task.title })}
                    checked={task.status === 'done'}
                    onChange={() => toggle.mutate(task)}
                    disabled={toggle.isPending && toggle.variables?.id === task.id}
                  />
                </Table.Td>
                <Table.Td>
                  <Text td={task.status === 'done' ? 'line-through' : undefined} size="sm">
                    {task.title}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Group gap={6}>
                    <Text size="sm">{formatDate(task.due_date, i18n.language)}</Text>
                    {late && (
                      <Badge color="red" variant="light" c="red.9">
                        {t('tasks.late')}
                      </Badge>
                    )}
                  </Group>
                </Table.Td>
                <Table.Td>{userName(users.data?.data, task.assignee_user_id)}</Table.Td>
                {showClient && (
                  <Table.Td>
                    {task.client_id && (
                      <Anchor component={Link} to={`/clients/${task.client_id}`} size="sm">
                        {clientNames?.[task.client_id] ?? t('tasks.openClient')}
                      </Anchor>
                    )}
                  </Table.Td>
                )}
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export function NewTaskForm({ clientId, meetingId, defaultAssignee }: { clientId?: string; meetingId?: string; defaultAssignee?: string | null }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const users = useUsers();
  const errorMessage = useErrorMessage();
  const [title, setTitle] = useState('');
  const [due, setDue] = useState('');
  const [assignee, setAssignee] = useState<string | null>(defaultAssignee ?? null);
  const [error, setError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () =>
      api.post<Task>('/api/tasks', {
        title: title.trim(),
        status: 'todo',
        ...(due ? { due_date: due } : {}),
        ...(assignee ? { assignee_user_id: assignee } : {}),
        ...(clientId ? { client_id: clientId } : {}),
        ...(meetingId ? { meeting_id: meetingId } : {}),
      }),
    onSuccess: () => {
      setTitle('');
      setDue('');
      setError(null);
      void qc.invalidateQueries({ queryKey: ['tasks'] });
    },
    onError: (e) => setError(errorMessage(e)),
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (title.trim()) create.mutate();
      }}
    >
      <Stack gap="xs">
        <Group align="flex-end" wrap="wrap">
          <TextInput label={t('tasks.newTitle')} value={title} onChange={(e) => setTitle(e.currentTarget.value)} required style={{ flex: '1 1 220px' }} />
          <TextInput label={t('tasks.due')} type="date" value={due} onChange={(e) => setDue(e.currentTarget.value)} w={170} />
          <Select
            label={t('tasks.assignee')}
            value={assignee}
            onChange={setAssignee}
            data={(users.data?.data ?? []).map((u) => ({ value: u.id, label: u.name || u.email }))}
            clearable
            w={200}
          />
          <Button type="submit" loading={create.isPending} disabled={!title.trim()}>
            {t('tasks.add')}
          </Button>
        </Group>
        {error && (
          <Text c="red.8" size="sm" role="alert">
            {error}
          </Text>
        )}
      </Stack>
    </form>
  );
}
