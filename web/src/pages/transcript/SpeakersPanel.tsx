// The recording's speakers: colour, name (renamed once, shown everywhere), names the firm's
// voiceprints suggest with their confidence (accept / reject), and enrolment of a named
// speaker's voice (admins: a voiceprint is biometric personal data).
import { useState } from 'react';
import { ActionIcon, Badge, Button, Group, Paper, Stack, Text, TextInput, Title, Tooltip } from '@mantine/core';
import { notify } from '../../lib/notify';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useErrorMessage } from '../../components/States';
import { enrolVoice, keys, nameSpeakers } from './api';
import type { RecordingSpeaker, RecordingSpeakers, SpeakerRef } from './types';

interface Props {
  recordingId: string;
  speakers: SpeakerRef[];
  info: RecordingSpeakers | undefined;
  colourOf: (label: string | null) => string;
  canEnrol: boolean;
}

const REJECTED_KEY = 'crm-ai.rejected-suggestions';

function loadRejected(): Set<string> {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(REJECTED_KEY) ?? '[]') as string[]);
  } catch {
    return new Set();
  }
}

export function SpeakersPanel({ recordingId, speakers, info, colourOf, canEnrol }: Props) {
  const { t } = useTranslation();
  const [rejected, setRejected] = useState(loadRejected);
  const reject = (key: string) => {
    const next = new Set(rejected).add(key);
    setRejected(next);
    try {
      sessionStorage.setItem(REJECTED_KEY, JSON.stringify([...next]));
    } catch {
      /* kept for this page only */
    }
  };
  return (
    <Paper withBorder p="sm" component="section" aria-labelledby="speakers-title">
      <Title order={2} size="h4" id="speakers-title" mb="xs">
        {t('transcript.speakers')}
      </Title>
      <Stack gap="sm">
        {speakers.map((s) => (
          <SpeakerRow
            key={s.label}
            recordingId={recordingId}
            speaker={s}
            detail={info?.speakers.find((d) => d.label === s.label)}
            colour={colourOf(s.label)}
            canEnrol={canEnrol}
            rejected={rejected}
            onReject={reject}
          />
        ))}
      </Stack>
    </Paper>
  );
}

interface RowProps {
  recordingId: string;
  speaker: SpeakerRef;
  detail: RecordingSpeaker | undefined;
  colour: string;
  canEnrol: boolean;
  rejected: Set<string>;
  onReject: (key: string) => void;
}

function SpeakerRow({ recordingId, speaker, detail, colour, canEnrol, rejected, onReject }: RowProps) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(speaker.name ?? '');
  const shown = speaker.name ?? t('transcript.speaker_label', { label: speaker.label });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: keys.transcript(recordingId) });
    void qc.invalidateQueries({ queryKey: keys.speakers(recordingId) });
  };
  const rename = useMutation({
    mutationFn: (name: string | null) => nameSpeakers(recordingId, { [speaker.label]: name }),
    onSuccess: (transcript) => {
      qc.setQueryData(keys.transcript(recordingId), transcript);
      refresh();
      setEditing(false);
      notify({ message: t('transcript.renamed'), color: 'green' });
    },
    onError: (e) => notify({ message: errorMessage(e), color: 'red' }),
  });
  const enrol = useMutation({
    mutationFn: () => enrolVoice(recordingId, speaker.label, speaker.name ?? ''),
    onSuccess: () => {
      refresh();
      notify({ message: t('transcript.enrolled'), color: 'green' });
    },
    onError: (e) => notify({ message: errorMessage(e), color: 'red' }),
  });
  const percent = (c: number | null | undefined) => Math.round((c ?? 0) * 100);
  const suggestions = (detail?.suggestions.voiceprints ?? []).filter(
    (v) => v.name !== speaker.name && !rejected.has(`${recordingId}:${speaker.label}:${v.voiceprint_id}`),
  );
  const automatic = detail?.origin === 'automatic' && speaker.name;

  return (
    <Stack gap={4} data-testid={`speaker-${speaker.label}`}>
      <Group gap="xs" wrap="nowrap">
        <span aria-hidden style={{ width: 12, height: 12, borderRadius: 6, background: colour, flex: 'none' }} />
        {editing ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              rename.mutate(draft.trim() === '' ? null : draft.trim());
            }}
            style={{ display: 'flex', gap: 6, flex: 1 }}
          >
            <TextInput
              size="xs"
              style={{ flex: 1 }}
              label={t('transcript.rename_speaker', { label: speaker.label })}
              value={draft}
              maxLength={100}
              onChange={(e) => setDraft(e.currentTarget.value)}
              autoFocus
            />
            <Button size="xs" type="submit" loading={rename.isPending} mt={22}>
              {t('transcript.save')}
            </Button>
            <Button size="xs" variant="default" mt={22} onClick={() => setEditing(false)}>
              {t('transcript.cancel')}
            </Button>
          </form>
        ) : (
          <>
            <Text fw={600} style={{ flex: 1 }}>
              {shown}
            </Text>
            {detail?.has_voiceprint && (
              <Badge size="xs" variant="outline" color="gray">
                {t('transcript.has_voiceprint')}
              </Badge>
            )}
            <Button
              size="compact-xs"
              variant="subtle"
              onClick={() => {
                setDraft(speaker.name ?? '');
                setEditing(true);
              }}
              aria-label={`${t('transcript.rename')} ${shown}`}
            >
              {t('transcript.rename')}
            </Button>
          </>
        )}
      </Group>
      {automatic && (
        <Group gap="xs" pl={20}>
          <Text size="xs" c="gray.7">
            {t('transcript.automatic_name', { percent: percent(detail?.confidence) })}
          </Text>
          <Tooltip label={t('transcript.accept_suggestion', { name: speaker.name })}>
            <ActionIcon size="sm" variant="default" aria-label={t('transcript.accept_suggestion', { name: speaker.name })} onClick={() => rename.mutate(speaker.name)}>
              ✓
            </ActionIcon>
          </Tooltip>
          <Tooltip label={t('transcript.reject_suggestion', { name: speaker.name })}>
            <ActionIcon size="sm" variant="default" aria-label={t('transcript.reject_suggestion', { name: speaker.name })} onClick={() => rename.mutate(null)}>
              ✕
            </ActionIcon>
          </Tooltip>
        </Group>
      )}
      {suggestions.slice(0, 3).map((v) => (
        <Group key={v.voiceprint_id} gap="xs" pl={20}>
          <Text size="xs">{t('transcript.suggested', { name: v.name, percent: percent(v.confidence) })}</Text>
          <Button size="compact-xs" variant="default" aria-label={t('transcript.accept_suggestion', { name: v.name })} onClick={() => rename.mutate(v.name)}>
            {t('transcript.accept')}
          </Button>
          <Button
            size="compact-xs"
            variant="default"
            aria-label={t('transcript.reject_suggestion', { name: v.name })}
            onClick={() => onReject(`${recordingId}:${speaker.label}:${v.voiceprint_id}`)}
          >
            {t('transcript.reject')}
          </Button>
        </Group>
      ))}
      {canEnrol && !detail?.has_voiceprint && (
        <Group gap="xs" pl={20}>
          <Tooltip label={speaker.name ? t('transcript.enrol_help', { name: speaker.name }) : t('transcript.enrol_needs_name')} multiline w={260}>
            <Button size="compact-xs" variant="default" disabled={!speaker.name} loading={enrol.isPending} onClick={() => enrol.mutate()}>
              {t('transcript.enrol')}
            </Button>
          </Tooltip>
        </Group>
      )}
    </Stack>
  );
}
