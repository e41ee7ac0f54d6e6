// Add a recording to a meeting: drag and drop or the file picker, consent required, then a
// resumable upload with a real progress bar (bytes, speed, time left), pause and resume.
import { Alert, Button, Checkbox, Group, Progress, Stack, Text } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatBytes, formatDuration } from '../lib/format';
import { looksLikeMedia, pendingUploads, ResumableUpload, type PendingUpload, type UploadProgress } from '../lib/upload';
import { useErrorMessage } from './States';

export function UploadPanel({ meetingId, onUploaded }: { meetingId: string; onUploaded: (recordingId: string) => void }) {
  const { t, i18n } = useTranslation();
  const errorMessage = useErrorMessage();
  const [consent, setConsent] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [dragging, setDragging] = useState(false);
  const [pending, setPending] = useState<PendingUpload[]>(() => pendingUploads(meetingId));
  const upload = useRef<ResumableUpload | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const lang = i18n.language;

  useEffect(() => () => upload.current?.pause(), []);
  useEffect(() => {
    if (progress?.state === 'done' && progress.recording) {
      setPending(pendingUploads(meetingId));
      onUploaded(progress.recording.id);
    }
  }, [progress?.state, progress?.recording, meetingId, onUploaded]);

  function choose(f: File | null | undefined) {
    setRefusal(null);
    setProgress(null);
    if (!f) return;
    if (!looksLikeMedia(f)) {
      setFile(null);
      return setRefusal(t('upload.notAudio', { name: f.name }));
    }
    if (f.size === 0) {
      setFile(null);
      return setRefusal(t('upload.empty', { name: f.name }));
    }
    setFile(f);
  }

  function start() {
    if (!file || !consent) return;
    const u = new ResumableUpload(file, { meetingId, consent }, setProgress);
    upload.current = u;
    void u.start();
  }

  const busy = progress && ['creating', 'uploading', 'reconnecting', 'finishing'].includes(progress.state);
  const pct = progress && progress.total > 0 ? (100 * progress.sent) / progress.total : 0;
  const stateText = progress ? t(`upload.state_${progress.state}`) : '';

  return (
    <Stack>
      {pending.length > 0 && !progress && (
        <Alert color="blue" title={t('upload.unfinished')} data-testid="unfinished-upload">
          {pending.map((p) => (
            <Text key={p.key} size="sm">
              {t('upload.unfinishedText', { name: p.name, size: formatBytes(p.size, lang) })}
            </Text>
          ))}
        </Alert>
      )}
      <div
        className="dropzone"
        data-active={dragging}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          if (!busy) choose(e.dataTransfer.files[0]);
        }}
      >
        <Stack gap="xs" align="center">
          <Text>{t('upload.drop')}</Text>
          <input
            ref={input}
            type="file"
            accept="audio/*,video/*"
            id={`file-${meetingId}`}
            aria-label={t('upload.pick')}
            style={{ position: 'absolute', width: 1, height: 1, opacity: 0 }}
            onChange={(e) => choose(e.currentTarget.files?.[0])}
            disabled={!!busy}
            data-testid="file-input"
          />
          <Button variant="default" onClick={() => input.current?.click()} disabled={!!busy}>
            {t('upload.pick')}
          </Button>
          {file && (
            <Text size="sm" data-testid="chosen-file">
              {file.name} · {formatBytes(file.size, lang)}
            </Text>
          )}
        </Stack>
      </div>
      <Checkbox
        label={t('upload.consent')}
        checked={consent}
        onChange={(e) => setConsent(e.currentTarget.checked)}
        disabled={!!busy}
        description={t('upload.consentHint')}
      />
      {refusal && (
        <Alert color="red" role="alert" data-testid="upload-refused">
          {refusal}
        </Alert>
      )}
      {progress?.state === 'error' && (
        <Alert color="red" role="alert" data-testid="upload-refused">
          {errorMessage(progress.error)}
        </Alert>
      )}
      {progress && progress.state !== 'error' && (
        <Stack gap={4} data-testid="upload-progress">
          <Progress value={pct} aria-label={t('upload.progressLabel')} size="lg" animated={progress.state === 'uploading'} />
          <Group justify="space-between" wrap="wrap">
            <Text size="sm" aria-live="polite" data-testid="upload-state" data-state={progress.state}>
              {stateText} — {formatBytes(progress.sent, lang)} / {formatBytes(progress.total, lang)} ({Math.floor(pct)} %)
            </Text>
            <Text size="sm" c="dimmed">
              {progress.bytesPerSecond > 0 && `${formatBytes(progress.bytesPerSecond, lang)}/s`}
              {progress.secondsLeft !== null && progress.state === 'uploading' && ` · ${t('upload.left', { time: formatDuration(progress.secondsLeft) })}`}
            </Text>
          </Group>
          {progress.resumedFrom !== undefined && (
            <Text size="sm" c="dimmed" data-testid="resumed-from" data-offset={progress.resumedFrom}>
              {t('upload.resumed', { size: formatBytes(progress.resumedFrom, lang) })}
            </Text>
          )}
        </Stack>
      )}
      <Group>
        {(!progress || progress.state === 'error' || progress.state === 'done') && (
          <Button onClick={start} disabled={!file || !consent} data-testid="upload-start">
            {t('upload.send')}
          </Button>
        )}
        {busy && (
          <Button variant="default" onClick={() => upload.current?.pause()}>
            {t('upload.pause')}
          </Button>
        )}
        {progress?.state === 'paused' && (
          <Button onClick={() => void upload.current?.start()}>{t('upload.resume')}</Button>
        )}
        {(busy || progress?.state === 'paused') && (
          <Button
            variant="subtle"
            color="red"
            onClick={() => {
              void upload.current?.cancel();
              setProgress(null);
              setPending(pendingUploads(meetingId));
            }}
          >
            {t('upload.abandon')}
          </Button>
        )}
      </Group>
    </Stack>
  );
}
