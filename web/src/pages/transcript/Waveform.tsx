// The waveform drawn by wavesurfer.js from the server's peaks, bound to the page's own <audio>
// element (which streams the file with byte ranges): nothing is fetched or decoded in the
// browser. Speaker turns are regions in their speaker's colour (the speakers' list is the
// legend); a click or a drag seeks.
import { useCallback, useEffect, useRef } from 'react';
import { Box, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import WaveSurfer from 'wavesurfer.js';
import RegionsPlugin from 'wavesurfer.js/dist/plugins/regions.esm.js';
import type { Turn } from './timeline';

interface Props {
  media: HTMLAudioElement | null;
  src: string;
  channel: Float32Array | null;
  duration: number;
  turns: Turn[];
  colourOf: (speaker: string | null) => string;
  failed: boolean;
  preparing?: boolean;
}

export function Waveform({ media, src, channel, duration, turns, colourOf, failed, preparing }: Props) {
  const { t } = useTranslation();
  const box = useRef<HTMLDivElement>(null);
  const regions = useRef<RegionsPlugin | null>(null);
  const ready = useRef(false);
  const latest = useRef({ turns, colourOf });
  latest.current = { turns, colourOf };

  const draw = useCallback(() => {
    const plugin = regions.current;
    if (!plugin || !ready.current) return;
    plugin.clearRegions();
    for (const turn of latest.current.turns)
      plugin.addRegion({
        start: turn.start,
        end: Math.max(turn.end, turn.start + 0.05),
        color: `${latest.current.colourOf(turn.speaker)}33`,
        drag: false,
        resize: false,
      });
  }, []);

  useEffect(() => {
    if (!box.current || !media || !channel || !(duration > 0)) return;
    const plugin = RegionsPlugin.create();
    const ws = WaveSurfer.create({
      container: box.current,
      media,
      height: 72,
      waveColor: '#adb5bd',
      progressColor: '#495057',
      cursorColor: '#c92a2a',
      cursorWidth: 2,
      barWidth: 2,
      barGap: 1,
      normalize: true,
      dragToSeek: true,
      plugins: [plugin],
    });
    regions.current = plugin;
    ready.current = false;
    ws.on('ready', () => {
      ready.current = true;
      draw();
    });
    // The same absolute URL as the element's, so wavesurfer does not reload (and rewind) it.
    void ws.load(new URL(src, window.location.href).href, [channel], duration).catch(() => undefined);
    return () => {
      regions.current = null;
      ready.current = false;
      ws.destroy();
    };
  }, [media, src, channel, duration, draw]);

  useEffect(draw, [turns, colourOf, draw]);

  if (preparing)
    return (
      <Text size="sm" c="gray.7" role="status" data-testid="waveform-preparing">
        {t('transcript.waveform_preparing')}
      </Text>
    );
  if (failed)
    return (
      <Text size="sm" c="gray.7" role="status">
        {t('transcript.waveform_unavailable')}
      </Text>
    );
  return <Box ref={box} role="img" aria-label={t('transcript.waveform')} data-testid="waveform" style={{ minHeight: 72 }} />;
}
