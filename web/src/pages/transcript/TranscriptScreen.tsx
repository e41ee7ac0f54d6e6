// The transcript of one recording: the player (audio streamed with byte ranges, waveform from the
// server's peaks with the speaker turns), the speakers, and the text synced with playback.
// ?t=SECONDS&play=1 (a search result) opens it at that second, playing.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Button, Group, Menu, Paper, SegmentedControl, Stack, Switch, Text, Title, Tooltip, ActionIcon } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useLocation } from 'react-router-dom';
import { hasRole, useSession } from '../../api/session';
import { ErrorState, PageLoader, EmptyState } from '../../components/States';
import { isApiError } from '../../api/client';
import { audioUrl, exportUrl, isPreparing, usePeaks, useRecording, useRecordingSpeakers, useTranscript } from './api';
import './messages';
import { SegmentItem } from './SegmentItem';
import { SpeakersPanel } from './SpeakersPanel';
import { SPEEDS, formatClock, peaksToChannel, positionAt, speakerColour, speakerTurns, startTimeFromSearch } from './timeline';
import { usePlayer } from './usePlayer';
import { Waveform } from './Waveform';
import './transcript.css';

const FORMATS = ['txt', 'srt', 'vtt', 'json'] as const;

export function TranscriptScreen({ recordingId }: { recordingId: string }) {
  const { t } = useTranslation();
  const { me } = useSession();
  const location = useLocation();
  const recording = useRecording(recordingId);
  const transcript = useTranscript(recordingId);
  const peaks = usePeaks(recordingId);
  const speakersInfo = useRecordingSpeakers(recordingId, transcript.isSuccess);
  const data = transcript.data;
  const player = usePlayer(data?.duration ?? 0);
  const [media, setMedia] = useState<HTMLAudioElement | null>(null);
  const [follow, setFollow] = useState(true);
  const list = useRef<HTMLOListElement>(null);
  const started = useRef(false);

  const segments = useMemo(() => data?.segments ?? [], [data]);
  const labels = useMemo(() => (data?.speakers ?? []).map((s) => s.label), [data]);
  const names = useMemo(() => new Map((data?.speakers ?? []).map((s) => [s.label, s.name])), [data]);
  const colourOf = useCallback((label: string | null) => speakerColour(labels, label), [labels]);
  const nameOf = useCallback(
    (label: string | null) => (label ? names.get(label) ?? t('transcript.speaker_label', { label }) : t('transcript.unknown_speaker')),
    [names, t],
  );
  const turns = useMemo(() => speakerTurns(segments), [segments]);
  const ready = peaks.data && !isPreparing(peaks.data) ? peaks.data : null;
  const channel = useMemo(() => (ready ? peaksToChannel(ready.data) : null), [ready]);
  const position = positionAt(segments, player.time);
  const current = position?.segment ?? -1;

  // A search result: seek to ?t= once the audio can seek, and play when asked.
  const { seek, ref: audioRef } = player;
  useEffect(() => {
    const a = audioRef.current;
    if (!a || !data || started.current) return;
    const at = startTimeFromSearch(location.search);
    if (at === null) return;
    const play = new URLSearchParams(location.search).get('play') === '1';
    const go = () => {
      if (started.current) return;
      started.current = true;
      seek(at, play);
    };
    if (a.readyState >= 1) go();
    else a.addEventListener('loadedmetadata', go, { once: true });
    return () => a.removeEventListener('loadedmetadata', go);
  }, [data, location.search, seek, audioRef]);

  const scrollToCurrent = useCallback((smooth: boolean) => {
    const el = list.current?.querySelector<HTMLElement>('[aria-current="true"]');
    el?.scrollIntoView({ block: 'center', behavior: smooth ? 'smooth' : 'auto' });
  }, []);
  useEffect(() => {
    if (follow && current >= 0) scrollToCurrent(true);
  }, [current, follow, scrollToCurrent]);

  // Clicking a word seeks there (one listener for every word).
  const onTextClick = useCallback(
    (e: React.MouseEvent) => {
      const target = (e.target as HTMLElement).closest<HTMLElement>('[data-start]');
      if (!target || window.getSelection()?.toString()) return;
      seek(Number(target.dataset.start), true);
    },
    [seek],
  );

  if (transcript.isLoading) return <PageLoader />;
  if (transcript.isError) {
    if (isApiError(transcript.error) && transcript.error.status === 404 && recording.isSuccess)
      return <EmptyState title={t('transcript.not_ready')} hint={t('transcript.not_ready_hint')} />;
    return <ErrorState error={transcript.error} onRetry={() => void transcript.refetch()} />;
  }
  if (!data) return null;
  const title = recording.data?.title || t('transcript.title');

  return (
    <Stack gap="sm">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={1}>{title}</Title>
          <Text size="sm" c="gray.7">
            {t('transcript.title')} · {formatClock(data.duration)}
          </Text>
        </div>
        <Menu position="bottom-end">
          <Menu.Target>
            <Button variant="default">{t('transcript.export')}</Button>
          </Menu.Target>
          <Menu.Dropdown>
            {FORMATS.map((f) => (
              <Menu.Item key={f} component="a" href={exportUrl(recordingId, f)} download data-testid={`export-${f}`}>
                {t('transcript.export_as', { format: f.toUpperCase() })}
              </Menu.Item>
            ))}
          </Menu.Dropdown>
        </Menu>
      </Group>

      <Paper withBorder p="sm" className="tr-player" component="section" aria-label={t('transcript.player')}>
        <audio
          ref={(el) => {
            (player.ref as React.MutableRefObject<HTMLAudioElement | null>).current = el;
            if (el !== media) setMedia(el);
          }}
          src={audioUrl(recordingId)}
          preload="metadata"
          data-testid="audio"
        />
        <Waveform
          media={media}
          src={audioUrl(recordingId)}
          channel={channel}
          duration={ready?.duration ?? data.duration}
          turns={turns}
          colourOf={colourOf}
          failed={peaks.isError}
          preparing={isPreparing(peaks.data)}
        />
        <Group gap="xs" mt="xs" wrap="wrap">
          <Tooltip label={t('transcript.back5')}>
            <ActionIcon variant="default" size="lg" onClick={() => player.skip(-5)} aria-label={t('transcript.back5')}>
              −5
            </ActionIcon>
          </Tooltip>
          <Button onClick={player.toggle} w={110} data-testid="play">
            {player.playing ? t('transcript.pause') : t('transcript.play')}
          </Button>
          <Tooltip label={t('transcript.forward5')}>
            <ActionIcon variant="default" size="lg" onClick={() => player.skip(5)} aria-label={t('transcript.forward5')}>
              +5
            </ActionIcon>
          </Tooltip>
          <Text size="sm" ff="monospace" aria-live="off" data-testid="clock">
            {formatClock(player.time)} / {formatClock(player.duration || data.duration)}
          </Text>
          <SegmentedControl
            size="xs"
            aria-label={t('transcript.speed')}
            value={String(player.rate)}
            onChange={(v) => player.setRate(Number(v))}
            data={SPEEDS.map((s) => ({ value: String(s), label: `${s}×` }))}
          />
          <Switch label={t('transcript.follow')} checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} />
          <Button
            size="xs"
            variant="default"
            onClick={() => {
              setFollow(true);
              scrollToCurrent(false);
            }}
            disabled={current < 0}
          >
            {t('transcript.jump_current')}
          </Button>
        </Group>
        <Text size="xs" c="gray.7" mt={4}>
          {t('transcript.keyboard_help')}
        </Text>
      </Paper>

      <Group align="flex-start" gap="md" wrap="nowrap" className="tr-layout">
        <div style={{ flex: 1, minWidth: 0 }} onWheel={() => setFollow(false)} onTouchMove={() => setFollow(false)}>
          {segments.length === 0 ? (
            <EmptyState title={t('transcript.empty')} />
          ) : (
            <ol className="tr-list" ref={list} onClick={onTextClick} aria-label={t('transcript.title')}>
              {segments.map((s, i) => (
                <SegmentItem
                  key={s.id}
                  recordingId={recordingId}
                  segment={s}
                  next={segments[i + 1] ?? null}
                  speakerName={nameOf(s.speaker)}
                  colour={colourOf(s.speaker)}
                  active={i === current}
                  activeWord={i === current ? position?.word ?? -1 : -1}
                  onSeek={player.seek}
                />
              ))}
            </ol>
          )}
        </div>
        {data.speakers.length > 0 && (
          <div className="tr-side" style={{ width: 300, flex: 'none' }}>
            <SpeakersPanel
              recordingId={recordingId}
              speakers={data.speakers}
              info={speakersInfo.data}
              colourOf={colourOf}
              canEnrol={hasRole(me, 'admin')}
            />
          </div>
        )}
      </Group>
    </Stack>
  );
}
