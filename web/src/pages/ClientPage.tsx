// One client: details (editable), contacts, meetings, a timeline and its tasks.
import { Anchor, Badge, Button, Card, Grid, Group, Modal, Stack, Table, Tabs, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api, type Page } from '../api/client';
import { useUsers, userName, type Client, type Contact, type Meeting, type Task } from '../api/hooks';
import { useSession } from '../api/session';
import { ClientForm } from '../components/ClientForm';
import { MeetingForm } from '../components/MeetingForm';
import { EmptyState, ErrorState, PageLoader, useErrorMessage } from '../components/States';
import { NewTaskForm, TaskTable } from '../components/TaskList';
import { DocumentsSection } from '../components/documents/DocumentsSection';
import { formatDateTime } from '../lib/format';

interface TimelineItem {
  type: 'meeting' | 'task' | 'note' | string;
  id: string;
  title: string;
  at: string;
  status?: string;
  notes?: string | null;
  meeting_id?: string | null;
  download_url?: string;
}

// Where a timeline entry opens: a meeting, a recording's transcript, a document's file.
function TimelineTitle({ item }: { item: TimelineItem }) {
  if (item.type === 'meeting')
    return (
      <Anchor component={Link} to={`/meetings/${item.id}`} size="sm">
        {item.title}
      </Anchor>
    );
  if (item.type === 'recording')
    return (
      <Anchor component={Link} to={item.meeting_id ? `/meetings/${item.meeting_id}/recordings/${item.id}` : `/recordings/${item.id}`} size="sm">
        {item.title}
      </Anchor>
    );
  if (item.type === 'document' && item.download_url)
    return (
      <Anchor href={item.download_url} download size="sm" data-testid="timeline-document">
        {item.title}
      </Anchor>
    );
  return <Text size="sm">{item.title}</Text>;
}

function Contacts({ clientId }: { clientId: string }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('');
  const [error, setError] = useState<string | null>(null);
  const list = useQuery({ queryKey: ['contacts', clientId], queryFn: () => api.get<Page<Contact>>(`/api/clients/${clientId}/contacts`) });
  const add = useMutation({
    mutationFn: () => api.post(`/api/clients/${clientId}/contacts`, { name: name.trim(), ...(email ? { email } : {}), ...(role ? { role } : {}) }),
    onSuccess: () => {
      setName('');
      setEmail('');
      setRole('');
      setError(null);
      void qc.invalidateQueries({ queryKey: ['contacts', clientId] });
    },
    onError: (e) => setError(errorMessage(e)),
  });
  if (list.isPending) return <PageLoader />;
  if (list.isError) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;
  return (
    <Stack>
      {list.data.data.length === 0 ? (
        <EmptyState title={t('contacts.empty')} hint={t('contacts.emptyHint')} />
      ) : (
        <Table aria-label={t('contacts.title')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('clients.name')}</Table.Th>
              <Table.Th>{t('contacts.role')}</Table.Th>
              <Table.Th>{t('clients.email')}</Table.Th>
              <Table.Th>{t('clients.phone')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.data.data.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>{c.name}</Table.Td>
                <Table.Td>{c.role}</Table.Td>
                <Table.Td>{c.email}</Table.Td>
                <Table.Td>{c.phone}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) add.mutate();
        }}
      >
        <Group align="flex-end" wrap="wrap">
          <TextInput label={t('contacts.newName')} value={name} onChange={(e) => setName(e.currentTarget.value)} required />
          <TextInput label={t('contacts.role')} value={role} onChange={(e) => setRole(e.currentTarget.value)} />
          <TextInput label={t('clients.email')} type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          <Button type="submit" loading={add.isPending} disabled={!name.trim()}>
            {t('contacts.add')}
          </Button>
        </Group>
        {error && (
          <Text c="red.8" size="sm" role="alert" mt="xs">
            {error}
          </Text>
        )}
      </form>
    </Stack>
  );
}

export default function ClientPage() {
  const { clientId = '' } = useParams();
  const { t, i18n } = useTranslation();
  const { me } = useSession();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const users = useUsers();
  const [editing, setEditing] = useState(false);
  const [planning, setPlanning] = useState(false);
  const client = useQuery({ queryKey: ['client', clientId], queryFn: () => api.get<Client>(`/api/clients/${clientId}`) });
  const meetings = useQuery({
    queryKey: ['meetings', { clientId }],
    queryFn: () => api.get<Page<Meeting>>('/api/meetings', { query: { client_id: clientId, sort: '-starts_at', limit: 100 } }),
  });
  const tasks = useQuery({
    queryKey: ['tasks', { clientId }],
    queryFn: () => api.get<Page<Task>>('/api/tasks', { query: { client_id: clientId, sort: 'due_date', limit: 200 } }),
  });
  const timeline = useQuery({
    queryKey: ['timeline', clientId],
    queryFn: () => api.get<{ data: TimelineItem[] }>(`/api/clients/${clientId}/timeline`),
  });

  if (client.isPending) return <PageLoader />;
  if (client.isError) return <ErrorState error={client.error} onRetry={() => void client.refetch()} />;
  const c = client.data;
  const lang = i18n.language;
  const detail = (label: string, value: React.ReactNode) =>
    value ? (
      <Group gap="xs" wrap="nowrap" align="flex-start">
        <Text size="sm" c="dimmed" w={130}>
          {label}
        </Text>
        <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
          {value}
        </Text>
      </Group>
    ) : null;

  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <Stack gap={2}>
          <Anchor component={Link} to="/clients" size="sm">
            ← {t('clients.title')}
          </Anchor>
          <Title order={1}>{c.name}</Title>
          <Group gap={4}>
            {c.tags.map((tg) => (
              <Badge key={tg} variant="light" color="gray" c="dark.6" tt="none">
                {tg}
              </Badge>
            ))}
          </Group>
        </Stack>
        <Group>
          <Button variant="default" onClick={() => setEditing(true)}>
            {t('common.edit')}
          </Button>
          <Button onClick={() => setPlanning(true)}>{t('meetings.new')}</Button>
        </Group>
      </Group>
      <Grid>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Card withBorder>
            <Stack gap={6}>
              <Title order={2} size="h4">
                {t('clients.details')}
              </Title>
              {detail(t('clients.kind'), c.kind ? t(c.kind === 'company' ? 'clients.company_kind' : 'clients.person') : '')}
              {detail(t('clients.email'), c.email)}
              {detail(t('clients.phone'), c.phone)}
              {detail(t('clients.companyName'), c.company)}
              {detail(t('clients.reference'), c.reference)}
              {detail(t('clients.address'), c.address)}
              {detail(t('clients.owner'), userName(users.data?.data, c.owner_user_id))}
              {detail(t('clients.notes'), c.notes)}
              {detail(t('clients.updated'), formatDateTime(c.updated_at, lang))}
            </Stack>
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Tabs defaultValue="meetings" keepMounted={false}>
            <Tabs.List>
              <Tabs.Tab value="meetings">{t('meetings.title')}</Tabs.Tab>
              <Tabs.Tab value="tasks">{t('tasks.title')}</Tabs.Tab>
              <Tabs.Tab value="contacts">{t('contacts.title')}</Tabs.Tab>
              <Tabs.Tab value="documents">{t('documents.title')}</Tabs.Tab>
              <Tabs.Tab value="timeline">{t('timeline.title')}</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="meetings" pt="sm">
              {meetings.isPending ? (
                <PageLoader />
              ) : meetings.isError ? (
                <ErrorState error={meetings.error} onRetry={() => void meetings.refetch()} />
              ) : meetings.data.data.length === 0 ? (
                <EmptyState title={t('meetings.empty')} hint={t('meetings.emptyHint')} action={<Button onClick={() => setPlanning(true)}>{t('meetings.new')}</Button>} />
              ) : (
                <Stack gap="xs">
                  {meetings.data.data.map((m) => (
                    <Card key={m.id} withBorder padding="sm">
                      <Anchor component={Link} to={`/meetings/${m.id}`} fw={500}>
                        {m.title}
                      </Anchor>
                      <Text size="sm" c="dimmed">
                        {formatDateTime(m.starts_at, lang)}
                        {m.location ? ` · ${m.location}` : ''}
                      </Text>
                    </Card>
                  ))}
                </Stack>
              )}
            </Tabs.Panel>
            <Tabs.Panel value="tasks" pt="sm">
              <Stack>
                {tasks.isPending ? (
                  <PageLoader />
                ) : tasks.isError ? (
                  <ErrorState error={tasks.error} onRetry={() => void tasks.refetch()} />
                ) : tasks.data.data.length === 0 ? (
                  <EmptyState title={t('tasks.emptyClient')} />
                ) : (
                  <TaskTable tasks={tasks.data.data} />
                )}
                <NewTaskForm clientId={clientId} defaultAssignee={me?.user_id} />
              </Stack>
            </Tabs.Panel>
            <Tabs.Panel value="contacts" pt="sm">
              <Contacts clientId={clientId} />
            </Tabs.Panel>
            <Tabs.Panel value="documents" pt="sm">
              <DocumentsSection clientId={clientId} />
            </Tabs.Panel>
            <Tabs.Panel value="timeline" pt="sm">
              {timeline.isPending ? (
                <PageLoader />
              ) : timeline.isError ? (
                <ErrorState error={timeline.error} onRetry={() => void timeline.refetch()} />
              ) : timeline.data.data.length === 0 ? (
                <EmptyState title={t('timeline.empty')} />
              ) : (
                <Stack gap="xs" component="ol" style={{ listStyle: 'none', padding: 0 }}>
                  {timeline.data.data.map((item) => (
                    <li key={`${item.type}-${item.id}`}>
                      <Group gap="sm" wrap="nowrap" align="flex-start">
                        <Badge variant="light" w={110} c="dark.6" color="gray">
                          {t(`timeline.${item.type}`, { defaultValue: item.type })}
                        </Badge>
                        <Stack gap={0}>
                          <TimelineTitle item={item} />
                          <Text size="xs" c="dimmed">
                            {formatDateTime(item.at, lang)}
                            {item.status ? ` · ${t(`tasks.status_${item.status}`)}` : ''}
                          </Text>
                        </Stack>
                      </Group>
                    </li>
                  ))}
                </Stack>
              )}
            </Tabs.Panel>
          </Tabs>
        </Grid.Col>
      </Grid>
      <Modal opened={editing} onClose={() => setEditing(false)} title={t('clients.edit')} size="lg" closeButtonProps={{ 'aria-label': t('common.close') }}>
        <ClientForm
          client={c}
          onCancel={() => setEditing(false)}
          onSaved={(saved) => {
            qc.setQueryData(['client', clientId], saved);
            void qc.invalidateQueries({ queryKey: ['clients'] });
            setEditing(false);
          }}
        />
      </Modal>
      <Modal opened={planning} onClose={() => setPlanning(false)} title={t('meetings.new')} size="lg" closeButtonProps={{ 'aria-label': t('common.close') }}>
        <MeetingForm clientId={clientId} onCancel={() => setPlanning(false)} onSaved={(m) => navigate(`/meetings/${m.id}`)} />
      </Modal>
    </Stack>
  );
}
