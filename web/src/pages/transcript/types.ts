// The shapes the transcript screen reads from the API (GET /api/recordings/{id}/transcript,
// /peaks, /speakers, revisions), as the server writes them.
export interface Word {
  start: number;
  end: number;
  text: string;
  confidence: number | null;
  edited: boolean;
}

export interface Segment {
  id: string;
  index: number;
  start: number;
  end: number;
  speaker: string | null;
  speaker_name: string | null;
  text: string;
  engine_text: string;
  edited: boolean;
  version: number;
  updated_at: string;
  words: Word[];
}

export interface SpeakerRef {
  label: string;
  name: string | null;
}

export interface Transcript {
  recording_id: string;
  language: string;
  duration: number;
  version: number;
  created_at: string;
  updated_at: string;
  speakers: SpeakerRef[];
  segments: Segment[];
}

export interface Peaks {
  recording_id: string;
  peaks_per_second: number;
  duration: number;
  length: number;
  bits: number;
  data: string; // base64url, no padding: int8 pairs (min, max)
}

export interface Revision {
  id: string;
  kind: 'edit' | 'split' | 'merge';
  version: number;
  old_text: string;
  new_text: string;
  user_id: string | null;
  api_key_id: string | null;
  created_at: string;
}

export interface VoiceprintSuggestion {
  voiceprint_id: string;
  name: string;
  confidence: number;
}

export interface ParticipantSuggestion {
  kind: string;
  id: string | null;
  name: string;
  email: string | null;
}

export interface RecordingSpeaker {
  label: string;
  name: string | null;
  origin: 'confirmed' | 'automatic' | null;
  confidence: number | null;
  voiceprint_id: string | null;
  has_voiceprint: boolean;
  seconds_of_speech: number;
  suggestions: { voiceprints: VoiceprintSuggestion[]; participants: ParticipantSuggestion[] };
}

export interface RecordingSpeakers {
  recording_id: string;
  version: number | null;
  speakers: RecordingSpeaker[];
}

export interface RecordingInfo {
  id: string;
  title?: string;
  client_id?: string;
  meeting_id?: string | null;
  duration_seconds?: number;
  status?: string;
}
