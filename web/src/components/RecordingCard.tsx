// One recording of a meeting with its processing state, live from the server-sent events while
// it is queued or running (stage, percent, time left), with cancel and retry.
import { Alert, Anchor, Badge, Button, Card, Group, Progress, Stack, Text } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api/client';
import type { Processing, Recording } from '../api/hooks';
import { formatBytes, formatDateTime, formatDuration } from '../lib/format';
import { pickLanguage, useErrorMessage } from './States';

const TERMINAL = new Set(['done', 'failed', 'cancelled']);

export function useProcessing(rec: Recording): Processing {
  const [p, setP] = useState<Processing>(rec.processing);
  const qc = useQueryClient();
  useEffect(() => setP(rec.processing), [rec.processing]);
  const live = !TERMINAL.has(p.state);
  useEffect(() => {
    if (!live) return;
    const es = new EventSource(`/api/recordings/${encodeURIComponent(rec.id)}/events`);
    const onData = (e: MessageEvent) => {
      try {
        const data = JSON.parse(e.data) as Processing;
        setP(data);
        if (TERMINAL.has(data.state)) {
          es.close();
          void qc.invalidateQueries({ queryKey: ['recordings'] });
        }
      } catch {
        /* a keep-alive or a malformed line: ignored */
      }
    };
    for (const ev of ['progress', 'done', 'failed', 'cancelled']) es.addEventListener(ev, onData as EventListener);
    return () => es.close();
  }, [rec.id, live, qc]);
  return p;
}

export function RecordingCard({ rec, meetingId }: { rec: Recording; meetingId: string }) {
  const { t, i18n } = useTranslation();
  const errorMessage = useErrorMessage();
  const qc = useQueryClient();
  const p = useProcessing(rec);
  const [error, setError] = useState<string | null>(null);
  const lang = i18n.language;
  const color = p.state === 'done' ? 'green' : p.state === 'failed' ? 'red' : p.state === 'cancelled' ? 'gray' : 'blue';

  async function act(fn: () => Promise<unknown>) {
    setError(null);
    try {
      await fn();
      await qc.invalidateQueries({ queryKey: ['recordings'] });
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  return (
    <Card withBorder padding="sm" data-testid="recording" data-state={p.state}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="wrap">
          <Stack gap={0}>
            <Text fw={500}>{rec.title || rec.original_name || t('recordings.untitled')}</Text>
            <Text size="xs" c="dimmed">
              {formatDateTime(rec.created_at, lang)}
              {rec.media?.duration_seconds ? ` · ${formatDuration(rec.media.duration_seconds)}` : ''}
              {rec.size_bytes ? ` · ${formatBytes(rec.size_bytes, lang)}` : ''}
            </Text>
          </Stack>
          <Badge color={color} variant="light" c={`${color}.9`} data-testid="recording-state">
            {t(`recordings.state_${p.state}`, { defaultValue: p.state })}
          </Badge>
        </Group>
        {!TERMINAL.has(p.state) && (
          <Stack gap={2}>
            <Progress value={p.progress ?? 0} aria-label={t('recordings.processing')} striped animated />
            <Text size="sm" aria-live="polite">
              {p.stage ? t(`recordings.stage_${p.stage}`, { defaultValue: p.stage }) : t('recordings.waiting')} — {Math.round(p.progress ?? 0)} %
              {p.eta_seconds ? ` · ${t('upload.left', { time: formatDuration(p.eta_seconds) })}` : ''}
            </Text>
          </Stack>
        )}
        {p.state === 'failed' && p.error && (
          <Alert color="red" role="alert">
            {pickLanguage(p.error.message ?? p.error.code ?? '', lang)}
          </Alert>
        )}
        {error && (
          <Text c="red.8" size="sm" role="alert">
            {error}
          </Text>
        )}
        <Group gap="xs">
          {p.state === 'done' && (
            <Button component={Link} to={`/meetings/${meetingId}/recordings/${rec.id}`} size="xs">
              {t('recordings.openTranscript')}
            </Button>
          )}
          {!TERMINAL.has(p.state) && rec.job_id && (
            <Button size="xs" variant="default" onClick={() => act(() => api.post(`/api/jobs/${rec.job_id}/cancel`))}>
              {t('recordings.cancel')}
            </Button>
          )}
          {(p.state === 'failed' || p.state === 'cancelled') && (
            <Button size="xs" onClick={() => act(() => api.post(`/api/recordings/${rec.id}/transcribe`))}>
              {t('recordings.retry')}
            </Button>
          )}
          <Anchor href={`/api/recordings/${rec.id}/audio`} size="xs" download>
            {t('recordings.download')}
          </Anchor>
        </Group>
      </Stack>
    </Card>
  );
}
