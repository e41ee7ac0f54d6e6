// One segment: its speaker in colour, a button to listen from its start, its words (clickable to
// seek; the word playing highlighted; uncertain words underlined), and the correction tools:
// inline editing saved with the segment's version (a conflict offers reload or overwrite), its
// history, a split at the cursor and a merge with the next segment.
import { memo, useRef, useState } from 'react';
import { Alert, Button, Group, Modal, Stack, Table, Text, Textarea, UnstyledButton } from '@mantine/core';
import { notify } from '../../lib/notify';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { isApiError } from '../../api/client';
import { useErrorMessage } from '../../components/States';
import { formatDateTime } from '../../lib/format';
import { keys, mergeWithNext, saveSegmentText, splitSegment, useRevisions } from './api';
import { LOW_CONFIDENCE, formatClock, wordIndexAtCaret } from './timeline';
import type { Segment } from './types';

interface Props {
  recordingId: string;
  segment: Segment;
  next: Segment | null;
  speakerName: string;
  colour: string;
  active: boolean;
  activeWord: number; // -1: none
  onSeek: (t: number, play?: boolean) => void;
}

function SegmentItemImpl({ recordingId, segment, next, speakerName, colour, active, activeWord, onSeek }: Props) {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(segment.text);
  const [conflict, setConflict] = useState(false);
  const [historyOpen, setHistoryOpen] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const time = formatClock(segment.start);
  const refresh = () => qc.invalidateQueries({ queryKey: keys.transcript(recordingId) });
  const fail = (e: unknown) => notify({ message: errorMessage(e), color: 'red' });

  const save = useMutation({
    mutationFn: (overwrite: boolean) => saveSegmentText(recordingId, segment, draft, overwrite),
    onSuccess: async () => {
      setConflict(false);
      setEditing(false);
      await refresh();
      void qc.invalidateQueries({ queryKey: keys.revisions(recordingId, segment.id) });
      notify({ message: t('transcript.saved'), color: 'green' });
    },
    onError: (e) => (isApiError(e) && e.status === 409 ? setConflict(true) : fail(e)),
  });
  const split = useMutation({
    mutationFn: (wordIndex: number) => splitSegment(recordingId, segment, wordIndex),
    onSuccess: async () => {
      setEditing(false);
      await refresh();
      notify({ message: t('transcript.split_done'), color: 'green' });
    },
    onError: (e) => (isApiError(e) && e.status === 409 ? setConflict(true) : fail(e)),
  });
  const merge = useMutation({
    mutationFn: () => mergeWithNext(recordingId, segment, next!),
    onSuccess: async () => {
      await refresh();
      notify({ message: t('transcript.merged'), color: 'green' });
    },
    onError: (e) => {
      fail(e);
      void refresh();
    },
  });

  const splitAtCaret = () => {
    const caret = area.current?.selectionStart ?? 0;
    const k = wordIndexAtCaret(segment.text, caret);
    if (k < 1 || k >= segment.words.length) {
      notify({ message: t('transcript.split_help'), color: 'yellow' });
      return;
    }
    split.mutate(k);
  };

  return (
    <li
      data-segment={segment.index}
      data-testid="segment"
      aria-current={active ? 'true' : undefined}
      className={`tr-seg${active ? ' tr-seg-active' : ''}`}
      style={{ borderLeftColor: colour }}
    >
      <Group gap="xs" mb={2} wrap="nowrap">
        <UnstyledButton
          className="tr-time"
          onClick={() => onSeek(segment.start, true)}
          aria-label={t('transcript.time_of_segment', { time })}
        >
          {time}
        </UnstyledButton>
        <Text size="sm" fw={700} style={{ color: colour }} className="tr-speaker">
          {speakerName}
        </Text>
        {segment.edited && (
          <Text size="xs" c="gray.7">
            ({t('transcript.edited')})
          </Text>
        )}
        <Group gap={4} ml="auto" className="tr-actions">
          {!editing && (
            <Button
              size="compact-xs"
              variant="subtle"
              onClick={() => {
                setDraft(segment.text);
                setConflict(false);
                setEditing(true);
              }}
              aria-label={t('transcript.edit_segment', { time })}
            >
              {t('transcript.edit')}
            </Button>
          )}
          <Button size="compact-xs" variant="subtle" onClick={() => setHistoryOpen(true)} aria-label={t('transcript.history_of', { time })}>
            {t('transcript.history')}
          </Button>
          {next && (
            <Button size="compact-xs" variant="subtle" loading={merge.isPending} onClick={() => merge.mutate()}>
              {t('transcript.merge_next')}
            </Button>
          )}
        </Group>
      </Group>
      {editing ? (
        <Stack gap={6}>
          <Textarea
            ref={area}
            label={t('transcript.segment_text')}
            value={draft}
            onChange={(e) => setDraft(e.currentTarget.value)}
            autosize
            minRows={2}
            maxLength={10000}
            autoFocus
            onKeyDown={(e) => {
              if (e.key === 'Escape') setEditing(false);
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) save.mutate(false);
            }}
          />
          {conflict && (
            <Alert color="orange" title={t('transcript.conflict_title')} role="alert">
              <Text size="sm">{t('transcript.conflict_body')}</Text>
              <Group mt="xs">
                <Button
                  size="xs"
                  variant="white"
                  onClick={async () => {
                    await refresh();
                    setConflict(false);
                    setEditing(false);
                  }}
                >
                  {t('transcript.reload')}
                </Button>
                <Button size="xs" color="orange" onClick={() => save.mutate(true)}>
                  {t('transcript.overwrite')}
                </Button>
              </Group>
            </Alert>
          )}
          <Group gap="xs">
            <Button size="xs" onClick={() => save.mutate(false)} loading={save.isPending} disabled={draft.trim() === ''}>
              {t('transcript.save')}
            </Button>
            <Button size="xs" variant="default" onClick={() => setEditing(false)}>
              {t('transcript.cancel')}
            </Button>
            <Button
              size="xs"
              variant="default"
              onClick={splitAtCaret}
              loading={split.isPending}
              disabled={draft !== segment.text || segment.words.length < 2}
              title={t('transcript.split_help')}
            >
              {t('transcript.split')}
            </Button>
          </Group>
        </Stack>
      ) : (
        <p className="tr-text">
          {segment.words.length
            ? segment.words.map((w, i) => {
                const low = w.confidence !== null && w.confidence < LOW_CONFIDENCE && !w.edited;
                const cls = `tr-word${i === activeWord ? ' tr-word-active' : ''}${low ? ' tr-low' : ''}${w.edited ? ' tr-edited' : ''}`;
                const title = low
                  ? t('transcript.low_confidence', { percent: Math.round((w.confidence ?? 0) * 100) })
                  : w.edited
                    ? t('transcript.edited_word')
                    : undefined;
                return (
                  <span key={i} className={cls} data-start={w.start} title={title}>
                    {i ? ' ' : ''}
                    {w.text.trim()}
                  </span>
                );
              })
            : segment.text}
        </p>
      )}
      {historyOpen && (
        <History recordingId={recordingId} segment={segment} time={time} lang={i18n.language} onClose={() => setHistoryOpen(false)} />
      )}
    </li>
  );
}

function History({ recordingId, segment, time, lang, onClose }: { recordingId: string; segment: Segment; time: string; lang: string; onClose: () => void }) {
  const { t } = useTranslation();
  const revisions = useRevisions(recordingId, segment.id, true);
  return (
    <Modal opened onClose={onClose} title={t('transcript.history_of', { time })} size="lg" closeButtonProps={{ 'aria-label': t('transcript.close') }}>
      {revisions.isLoading ? (
        <Text>{t('common.loading')}</Text>
      ) : !revisions.data?.length ? (
        <Text c="gray.7">{t('transcript.no_history')}</Text>
      ) : (
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('transcript.when')}</Table.Th>
              <Table.Th>{t('transcript.before')}</Table.Th>
              <Table.Th>{t('transcript.after')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {revisions.data.map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td>
                  <Text size="xs">{formatDateTime(r.created_at, lang)}</Text>
                  <Text size="xs" c="gray.7">
                    {t(`transcript.revision_${r.kind}`)}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{r.old_text}</Text>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{r.new_text}</Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Modal>
  );
}

export const SegmentItem = memo(SegmentItemImpl);
