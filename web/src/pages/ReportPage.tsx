// One meeting report (compte rendu): the header, then the draft to review and correct (title,
// summary, decisions, action items, key excerpts linked to the audio), validated once read;
// after review, the action items chosen become tasks and the report can be sent by mail (with the
// mails it was sent by); exports as DOCX or PDF at any time.
import { Alert, Anchor, Button, Card, Checkbox, Group, Stack, Table, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { api, isApiError } from '../api/client';
import type { Task } from '../api/hooks';
import { GeneratingProgress, REPORTS_KEY, ReportStatus } from '../components/reports/MeetingReports';
import { ReportExports } from '../components/reports/ReportExports';
import { ReportSendSlot } from '../components/reports/ReportSendSlot';
import { ReportMails } from '../components/mails/ReportMails';
import type { Report, ReportAction, ReportSentence } from '../components/reports/types';
import { ErrorState, PageLoader, pickLanguage, useErrorMessage } from '../components/States';
import { formatDate, formatDateTime, formatDuration } from '../lib/format';
import { notify } from '../lib/notify';

interface Draft {
  title: string;
  summary: ReportSentence[];
  decisions: ReportSentence[];
  actions: ReportAction[];
}

// The header's date as the server wrote it when it is not an ISO time.
function dateText(value: string, lang: string): string {
  return Number.isNaN(Date.parse(value)) ? value : formatDateTime(value, lang);
}

function draftOf(r: Report): Draft {
  return { title: r.title ?? '', summary: r.summary ?? [], decisions: r.decisions ?? [], actions: r.actions ?? [] };
}

// The transcript at that second (the excerpt's place in the recording).
function At({ report, start }: { report: Report; start?: number }) {
  const { t } = useTranslation();
  if (start === undefined || !report.recording_id) return null;
  const to = report.meeting_id
    ? `/meetings/${report.meeting_id}/recordings/${report.recording_id}?t=${Math.floor(start)}&play=1`
    : `/recordings/${report.recording_id}?t=${Math.floor(start)}&play=1`;
  return (
    <Anchor component={Link} to={to} size="xs" aria-label={t('reports.listenAt', { time: formatDuration(start) })}>
      {formatDuration(start)}
    </Anchor>
  );
}

function SentenceList({ label, items, editable, onChange, report }: {
  label: string;
  items: ReportSentence[];
  editable: boolean;
  onChange: (items: ReportSentence[]) => void;
  report: Report;
}) {
  const { t } = useTranslation();
  return (
    <Stack gap={6}>
      <Title order={2} size="h4">
        {label}
      </Title>
      {items.length === 0 && (
        <Text size="sm" c="dimmed">
          {t('reports.nothing')}
        </Text>
      )}
      {items.map((s, i) =>
        editable ? (
          <Group key={i} align="flex-start" wrap="nowrap" gap="xs">
            <Textarea
              autosize
              minRows={1}
              style={{ flex: 1 }}
              aria-label={`${label} ${i + 1}`}
              value={s.text}
              onChange={(e) => onChange(items.map((x, j) => (j === i ? { ...x, text: e.currentTarget.value } : x)))}
            />
            <Stack gap={0} align="flex-end">
              <At report={report} start={s.start} />
              <Button size="compact-xs" variant="subtle" color="red" c="red.9" onClick={() => onChange(items.filter((_, j) => j !== i))} aria-label={`${t('reports.remove')} ${label} ${i + 1}`}>
                {t('reports.remove')}
              </Button>
            </Stack>
          </Group>
        ) : (
          <Group key={i} align="flex-start" wrap="nowrap" gap="xs">
            <Text size="sm" style={{ flex: 1 }}>
              {s.speaker ? <strong>{s.speaker} : </strong> : null}
              {s.text}
            </Text>
            <At report={report} start={s.start} />
          </Group>
        ),
      )}
    </Stack>
  );
}

function ActionsTable({ report, actions, editable, onChange }: {
  report: Report;
  actions: ReportAction[];
  editable: boolean;
  onChange: (a: ReportAction[]) => void;
}) {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const [chosen, setChosen] = useState<number[]>([]);
  const [created, setCreated] = useState<Task[]>([]);
  const reviewed = report.status === 'reviewed';
  const accept = useMutation({
    mutationFn: () => api.post<{ data: Task[] }>(`/api/reports/${report.id}/tasks`, { actions: chosen }),
    onSuccess: (r) => {
      setCreated(r.data);
      setChosen([]);
      void qc.invalidateQueries({ queryKey: ['tasks'] });
      void qc.invalidateQueries({ queryKey: ['timeline'] });
      notify({ color: 'green', message: t('reports.tasksCreated', { count: r.data.length }) });
    },
    onError: (e) => notify({ color: 'red', title: t('errors.title'), message: errorMessage(e) }),
  });
  const set = (i: number, patch: Partial<ReportAction>) => onChange(actions.map((a, j) => (j === i ? { ...a, ...patch } : a)));
  return (
    <Stack gap={6}>
      <Title order={2} size="h4">
        {t('reports.actions')}
      </Title>
      {actions.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t('reports.nothing')}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={560}>
          <Table aria-label={t('reports.actions')}>
            <Table.Thead>
              <Table.Tr>
                {reviewed && <Table.Th>{t('reports.choose')}</Table.Th>}
                <Table.Th>{t('reports.who')}</Table.Th>
                <Table.Th>{t('reports.what')}</Table.Th>
                <Table.Th>{t('reports.due')}</Table.Th>
                <Table.Th>{t('reports.when')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {actions.map((a, i) => (
                <Table.Tr key={i} data-testid="report-action">
                  {reviewed && (
                    <Table.Td>
                      <Checkbox
                        aria-label={t('reports.chooseAction', { what: a.what })}
                        checked={chosen.includes(i)}
                        onChange={(e) => {
                          const on = e.currentTarget.checked;
                          setChosen((c) => (on ? [...c, i] : c.filter((x) => x !== i)));
                        }}
                      />
                    </Table.Td>
                  )}
                  <Table.Td>
                    {editable ? <TextInput size="xs" aria-label={`${t('reports.who')} ${i + 1}`} value={a.who} onChange={(e) => set(i, { who: e.currentTarget.value })} /> : a.who}
                  </Table.Td>
                  <Table.Td>
                    {editable ? <Textarea size="xs" autosize minRows={1} aria-label={`${t('reports.what')} ${i + 1}`} value={a.what} onChange={(e) => set(i, { what: e.currentTarget.value })} /> : a.what}
                  </Table.Td>
                  <Table.Td>
                    {editable ? (
                      <TextInput size="xs" type="date" aria-label={`${t('reports.due')} ${i + 1}`} value={a.due_date ?? ''} onChange={(e) => set(i, { due_date: e.currentTarget.value || null })} />
                    ) : a.due_date ? (
                      formatDate(a.due_date, i18n.language)
                    ) : (
                      a.due_text || t('common.none')
                    )}
                  </Table.Td>
                  <Table.Td>
                    <At report={report} start={a.start} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {actions.length > 0 &&
        (reviewed ? (
          <Group gap="xs">
            <Button size="xs" onClick={() => accept.mutate()} disabled={chosen.length === 0} loading={accept.isPending} data-testid="accept-actions">
              {t('reports.createTasks', { n: chosen.length })}
            </Button>
          </Group>
        ) : (
          <Text size="xs" c="dimmed">
            {t('reports.tasksAfterReview')}
          </Text>
        ))}
      {created.length > 0 && (
        <Alert color="green" data-testid="tasks-created">
          <Stack gap={2}>
            <Text size="sm">{t('reports.tasksCreated', { count: created.length })}</Text>
            {created.map((task) => (
              <Text size="sm" key={task.id}>
                • {task.title}
              </Text>
            ))}
            <Anchor component={Link} to="/tasks" size="sm">
              {t('reports.seeTasks')}
            </Anchor>
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}

export default function ReportPage() {
  const { reportId = '' } = useParams();
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const key = [...REPORTS_KEY, reportId];
  const report = useQuery({
    queryKey: key,
    queryFn: () => api.get<Report>(`/api/reports/${reportId}`),
    refetchInterval: (q) => (q.state.data?.status === 'generating' ? 1500 : false),
  });
  const [draft, setDraft] = useState<Draft | null>(null);
  const [dirty, setDirty] = useState(false);
  const [conflict, setConflict] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (report.data && !dirty) setDraft(draftOf(report.data));
  }, [report.data, dirty]);
  const edit = (d: Draft) => {
    setDraft(d);
    setDirty(true);
  };
  const save = useMutation({
    mutationFn: async (opts: { review: boolean }) => {
      let r = report.data!;
      if (dirty && draft) r = await api.patch<Report>(`/api/reports/${reportId}`, { ...draft, title: draft.title.trim() || undefined, version: r.version });
      if (opts.review) r = await api.post<Report>(`/api/reports/${reportId}/review`, { version: r.version });
      return r;
    },
    onSuccess: (r, opts) => {
      qc.setQueryData(key, r);
      setDirty(false);
      setDraft(draftOf(r));
      setError(null);
      void qc.invalidateQueries({ queryKey: REPORTS_KEY });
      notify({ color: 'green', message: opts.review ? t('reports.reviewedDone') : t('reports.saved') });
    },
    onError: (e) => {
      if (isApiError(e) && e.status === 409 && e.code === 'conflict') setConflict(true);
      else setError(errorMessage(e));
    },
  });

  if (report.isPending) return <PageLoader />;
  if (report.isError) return <ErrorState error={report.error} onRetry={() => void report.refetch()} />;
  const r = report.data;
  const lang = i18n.language;
  const editable = r.status === 'draft';
  const d = draft ?? draftOf(r);
  return (
    <Stack>
      <Stack gap={2}>
        {r.meeting_id && (
          <Anchor component={Link} to={`/meetings/${r.meeting_id}`} size="sm">
            ← {t('reports.backToMeeting')}
          </Anchor>
        )}
        <Group gap="sm" wrap="wrap">
          <Title order={1}>{r.title || t('reports.untitled')}</Title>
          <ReportStatus status={r.status} />
        </Group>
        {r.header && (
          <Text c="dimmed" size="sm">
            {[r.header.firm, r.header.client, r.header.date ? dateText(r.header.date, lang) : null].filter(Boolean).join(' · ')}
            {r.header.participants && r.header.participants.length > 0 ? ` · ${t('reports.participants')} : ${r.header.participants.join(', ')}` : ''}
          </Text>
        )}
        {r.reviewed_at && (
          <Text size="xs" c="dimmed">
            {t('reports.reviewedAt', { date: formatDateTime(r.reviewed_at, lang) })}
          </Text>
        )}
      </Stack>
      {r.status === 'generating' && <GeneratingProgress report={r} />}
      {r.status === 'failed' && (
        <Alert color="red" role="alert" title={t('reports.failed')}>
          {pickLanguage(r.error?.message ?? '', lang)}
        </Alert>
      )}
      {(r.status === 'draft' || r.status === 'reviewed') && (
        <>
          {conflict && (
            <Alert color="orange" role="alert" title={t('reports.conflictTitle')}>
              <Stack gap="xs">
                <Text size="sm">{t('reports.conflictText')}</Text>
                <Group>
                  <Button
                    size="xs"
                    onClick={() => {
                      setConflict(false);
                      setDirty(false);
                      void report.refetch();
                    }}
                  >
                    {t('reports.reload')}
                  </Button>
                </Group>
              </Stack>
            </Alert>
          )}
          <Card withBorder>
            <Stack>
              {editable && (
                <TextInput label={t('reports.titleField')} value={d.title} onChange={(e) => edit({ ...d, title: e.currentTarget.value })} maxLength={300} />
              )}
              <SentenceList label={t('reports.summary')} items={d.summary} editable={editable} onChange={(summary) => edit({ ...d, summary })} report={r} />
              <SentenceList label={t('reports.decisions')} items={d.decisions} editable={editable} onChange={(decisions) => edit({ ...d, decisions })} report={r} />
              <ActionsTable report={r} actions={d.actions} editable={editable} onChange={(actions) => edit({ ...d, actions })} />
              <SentenceList label={t('reports.excerpts')} items={r.excerpts ?? []} editable={false} onChange={() => {}} report={r} />
            </Stack>
          </Card>
          {error && (
            <Text c="red.8" size="sm" role="alert">
              {error}
            </Text>
          )}
          {editable && (
            <Group>
              <Button variant="default" onClick={() => save.mutate({ review: false })} disabled={!dirty} loading={save.isPending && !save.variables?.review}>
                {t('reports.saveDraft')}
              </Button>
              <Button onClick={() => save.mutate({ review: true })} loading={save.isPending && !!save.variables?.review} data-testid="review-report">
                {t('reports.markReviewed')}
              </Button>
            </Group>
          )}
          <Card withBorder>
            <Title order={2} size="h4" mb="xs">
              {t('reports.exports')}
            </Title>
            <Text size="xs" c="dimmed" mb="xs">
              {t('reports.exportsHint')}
            </Text>
            <Group align="flex-start" justify="space-between" wrap="wrap">
              <ReportExports reportId={r.id} disabled={dirty} />
              <ReportSendSlot report={r} disabled={dirty} />
            </Group>
          </Card>
          {r.status === 'reviewed' && <ReportMails reportId={r.id} />}
        </>
      )}
    </Stack>
  );
}
