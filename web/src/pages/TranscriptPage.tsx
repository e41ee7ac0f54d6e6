// Transcript view of one recording: audio player, waveform, speakers and editable text
// (pages/transcript/).
import { useParams } from 'react-router-dom';
import { TranscriptScreen } from './transcript/TranscriptScreen';

export default function TranscriptPage() {
  const { recordingId = '' } = useParams();
  return <TranscriptScreen key={recordingId} recordingId={recordingId} />;
}
