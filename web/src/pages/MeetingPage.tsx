// A meeting: when, where, who (users and named guests), notes, and its recordings with upload.
import { Anchor, Button, Card, Grid, Group, List, Modal, Stack, Text, Title } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { api, type Page } from '../api/client';
import { useUsers, userName, type Client, type Meeting, type Recording } from '../api/hooks';
import { MeetingForm } from '../components/MeetingForm';
import { RecordingCard } from '../components/RecordingCard';
import { EmptyState, ErrorState, PageLoader } from '../components/States';
import { UploadPanel } from '../components/UploadPanel';
import { DocumentsSection } from '../components/documents/DocumentsSection';
import { MeetingReports } from '../components/reports/MeetingReports';
import { formatDateTime } from '../lib/format';

export default function MeetingPage() {
  const { meetingId = '' } = useParams();
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const users = useUsers();
  const [editing, setEditing] = useState(false);
  const meeting = useQuery({ queryKey: ['meeting', meetingId], queryFn: () => api.get<Meeting>(`/api/meetings/${meetingId}`) });
  const client = useQuery({
    queryKey: ['client', meeting.data?.client_id],
    queryFn: () => api.get<Client>(`/api/clients/${meeting.data!.client_id}`),
    enabled: !!meeting.data?.client_id,
  });
  const recordings = useQuery({
    queryKey: ['recordings', { meetingId }],
    queryFn: () => api.get<Page<Recording>>('/api/recordings', { query: { meeting_id: meetingId, limit: 100 } }),
  });
  const onUploaded = useCallback(() => void qc.invalidateQueries({ queryKey: ['recordings'] }), [qc]);

  if (meeting.isPending) return <PageLoader />;
  if (meeting.isError) return <ErrorState error={meeting.error} onRetry={() => void meeting.refetch()} />;
  const m = meeting.data;
  const lang = i18n.language;
  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <Stack gap={2}>
          {client.data && (
            <Anchor component={Link} to={`/clients/${client.data.id}`} size="sm">
              ← {client.data.name}
            </Anchor>
          )}
          <Title order={1}>{m.title}</Title>
          <Text c="dimmed">
            {formatDateTime(m.starts_at, lang)}
            {m.duration_minutes ? ` · ${t('meetings.minutes', { count: m.duration_minutes })}` : ''}
            {m.location ? ` · ${m.location}` : ''}
          </Text>
        </Stack>
        <Button variant="default" onClick={() => setEditing(true)}>
          {t('common.edit')}
        </Button>
      </Group>
      <Grid>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack>
            <Card withBorder>
              <Title order={2} size="h4" mb="xs">
                {t('meetings.participants')}
              </Title>
              {m.participants.length === 0 ? (
                <Text size="sm" c="dimmed">
                  {t('meetings.noParticipants')}
                </Text>
              ) : (
                <List size="sm">
                  {m.participants.map((p, i) => (
                    <List.Item key={i}>
                      {p.user_id ? `${userName(users.data?.data, p.user_id)} (${t('meetings.firmUser')})` : `${p.name ?? ''}${p.email ? ` <${p.email}>` : ''}`}
                    </List.Item>
                  ))}
                </List>
              )}
            </Card>
            <Card withBorder>
              <Title order={2} size="h4" mb="xs">
                {t('meetings.notes')}
              </Title>
              <Text size="sm" style={{ whiteSpace: 'pre-wrap' }} c={m.notes ? undefined : 'dimmed'}>
                {m.notes || t('meetings.noNotes')}
              </Text>
            </Card>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack>
            <Title order={2} size="h3">
              {t('recordings.title')}
            </Title>
            {recordings.isPending ? (
              <PageLoader />
            ) : recordings.isError ? (
              <ErrorState error={recordings.error} onRetry={() => void recordings.refetch()} />
            ) : recordings.data.data.length === 0 ? (
              <EmptyState title={t('recordings.empty')} hint={t('recordings.emptyHint')} />
            ) : (
              recordings.data.data.map((r) => <RecordingCard key={r.id} rec={r} meetingId={meetingId} />)
            )}
            <Card withBorder>
              <Title order={3} size="h4" mb="xs">
                {t('upload.title')}
              </Title>
              <UploadPanel meetingId={meetingId} onUploaded={onUploaded} />
            </Card>
            <MeetingReports meetingId={meetingId} recordings={recordings.data?.data ?? []} />
          </Stack>
        </Grid.Col>
      </Grid>
      <Card withBorder>
        <DocumentsSection clientId={m.client_id} meetingId={meetingId} />
      </Card>
      <Modal opened={editing} onClose={() => setEditing(false)} title={t('meetings.edit')} size="lg" closeButtonProps={{ 'aria-label': t('common.close') }}>
        <MeetingForm
          clientId={m.client_id}
          meeting={m}
          onCancel={() => setEditing(false)}
          onSaved={(saved) => {
            qc.setQueryData(['meeting', meetingId], saved);
            setEditing(false);
          }}
        />
      </Modal>
    </Stack>
  );
}
