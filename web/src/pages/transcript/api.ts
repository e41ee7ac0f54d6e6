// The transcript screen's server calls, as TanStack Query hooks and plain functions.
import { useQuery } from '@tanstack/react-query';
import { api, isApiError, request } from '../../api/client';
import type { Peaks, RecordingInfo, RecordingSpeakers, Revision, Segment, Transcript } from './types';

const base = (id: string) => `/api/recordings/${encodeURIComponent(id)}`;

export const keys = {
  recording: (id: string) => ['recording', id] as const,
  transcript: (id: string) => ['transcript', id] as const,
  speakers: (id: string) => ['recording-speakers', id] as const,
  peaks: (id: string) => ['peaks', id] as const,
  revisions: (id: string, segment: string) => ['revisions', id, segment] as const,
};

export const audioUrl = (id: string) => `${base(id)}/audio`;
export const exportUrl = (id: string, format: string) => `${base(id)}/transcript/export?format=${format}`;

export function useRecording(id: string) {
  return useQuery({ queryKey: keys.recording(id), queryFn: () => api.get<RecordingInfo>(base(id)) });
}

// Not there yet (404 while the recording is processed): asked again every few seconds.
export function useTranscript(id: string) {
  return useQuery({
    queryKey: keys.transcript(id),
    queryFn: () => api.get<Transcript>(`${base(id)}/transcript`),
    retry: false,
    refetchInterval: (q) => (isApiError(q.state.error) && q.state.error.status === 404 ? 4000 : false),
  });
}

export function useRecordingSpeakers(id: string, enabled: boolean) {
  return useQuery({ queryKey: keys.speakers(id), queryFn: () => api.get<RecordingSpeakers>(`${base(id)}/speakers`), enabled });
}

// The server's answer while a job prepares the peaks (202): ask again after retry_after seconds.
export interface PeaksPreparing {
  state: 'preparing';
  retry_after: number;
}

export function isPreparing(p: Peaks | PeaksPreparing | undefined): p is PeaksPreparing {
  return !!p && (p as PeaksPreparing).state === 'preparing';
}

// Computed once by the server; never changes for a recording once there. A recording processed
// before peaks existed gets them from a job: "preparing" until then, asked again meanwhile.
export function usePeaks(id: string) {
  return useQuery({
    queryKey: keys.peaks(id),
    queryFn: async () => {
      const r = await request<Peaks | PeaksPreparing>('GET', `${base(id)}/peaks`);
      if (r.status === 202) return { state: 'preparing', retry_after: Number(r.headers.get('Retry-After')) || 2 } as PeaksPreparing;
      return r.data as Peaks;
    },
    staleTime: Infinity,
    retry: 1,
    refetchInterval: (q) => (isPreparing(q.state.data) ? q.state.data.retry_after * 1000 : false),
  });
}

export function useRevisions(id: string, segment: string, enabled: boolean) {
  return useQuery({
    queryKey: keys.revisions(id, segment),
    queryFn: () => api.get<{ data: Revision[] }>(`${base(id)}/transcript/segments/${encodeURIComponent(segment)}/revisions`).then((r) => r.data),
    enabled,
  });
}

export function saveSegmentText(id: string, segment: Segment, text: string, overwrite = false): Promise<Segment> {
  const body: Record<string, unknown> = { text };
  if (!overwrite) body.version = segment.version;
  return api.patch<Segment>(`${base(id)}/transcript/segments/${encodeURIComponent(segment.id)}`, body);
}

export function splitSegment(id: string, segment: Segment, wordIndex: number): Promise<{ segments: Segment[] }> {
  return api.post(`${base(id)}/transcript/segments/${encodeURIComponent(segment.id)}/split`, {
    word_index: wordIndex,
    version: segment.version,
  });
}

export function mergeWithNext(id: string, segment: Segment, next: Segment): Promise<Segment> {
  return api.post(`${base(id)}/transcript/segments/${encodeURIComponent(segment.id)}/merge`, {
    version: segment.version,
    next_version: next.version,
  });
}

// label → name; null removes the name.
export function nameSpeakers(id: string, names: Record<string, string | null>): Promise<Transcript> {
  return api.patch<Transcript>(`${base(id)}/speakers`, names);
}

export function enrolVoice(recordingId: string, label: string, name: string): Promise<unknown> {
  return api.post('/api/voiceprints', { name, sources: [{ recording_id: recordingId, label }] });
}
