// Resumable upload of one recording through /api/uploads (the tus-style protocol of the server):
// POST creates it with Upload-Length and the metadata (consent, meeting), before any byte is
// sent, so a file over the limit is refused with the server's message; PATCH appends chunks at
// Upload-Offset; the last one answers 201 with the recording. The upload id is remembered per
// file (name, size, date) in localStorage, so after a dropped connection, a pause or a reload
// the same file continues from the server's offset instead of starting over.
import { ApiError, getCsrfToken, notifyUnauthorized, request } from '../api/client';

export const AUDIO_EXTENSIONS = ['wav', 'mp3', 'm4a', 'mp4', 'aac', 'ogg', 'oga', 'opus', 'flac', 'webm', 'amr', 'wma', 'mov', 'mkv', '3gp', 'mpeg', 'mpga', 'aiff', 'aif', 'caf'];

export function looksLikeMedia(file: { name: string; type: string }): boolean {
  if (file.type.startsWith('audio/') || file.type.startsWith('video/')) return true;
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  return AUDIO_EXTENSIONS.includes(ext);
}

export function chunkSizeFor(size: number): number {
  const MIN = 256 * 1024;
  const MAX = 8 * 1024 * 1024;
  return Math.min(MAX, Math.max(MIN, Math.ceil(size / 50 / MIN) * MIN));
}

export type UploadState = 'idle' | 'creating' | 'uploading' | 'paused' | 'reconnecting' | 'finishing' | 'done' | 'error';

export interface UploadProgress {
  state: UploadState;
  sent: number;
  total: number;
  bytesPerSecond: number;
  secondsLeft: number | null;
  error?: ApiError | Error;
  resumedFrom?: number;
  recording?: { id: string } & Record<string, unknown>;
}

export interface UploadTarget {
  meetingId: string;
  consent: boolean;
  title?: string;
}

const KEY_PREFIX = 'crm-ai.upload:';

export function fileKey(meetingId: string, f: { name: string; size: number; lastModified: number }): string {
  return `${KEY_PREFIX}${meetingId}:${f.name}:${f.size}:${f.lastModified}`;
}

export interface PendingUpload {
  key: string;
  id: string;
  name: string;
  size: number;
}

// Uploads of a meeting that were started and not finished (shown after a reload).
export function pendingUploads(meetingId: string): PendingUpload[] {
  const out: PendingUpload[] = [];
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (!key?.startsWith(`${KEY_PREFIX}${meetingId}:`)) continue;
      const rest = key.slice(`${KEY_PREFIX}${meetingId}:`.length).split(':');
      const lastModified = rest.pop();
      const size = Number(rest.pop());
      void lastModified;
      out.push({ key, id: localStorage.getItem(key) ?? '', name: rest.join(':'), size });
    }
  } catch {
    /* storage unavailable: nothing to resume */
  }
  return out;
}

function remember(key: string, id: string | null) {
  try {
    if (id) localStorage.setItem(key, id);
    else localStorage.removeItem(key);
  } catch {
    /* not resumable after a reload, still works */
  }
}

interface PatchResult {
  status: number;
  offset: number | null;
  body: unknown;
}

// One PATCH through XMLHttpRequest: fetch has no upload progress events.
function patch(id: string, offset: number, blob: Blob, onBytes: (n: number) => void, xhrRef: { current: XMLHttpRequest | null }): Promise<PatchResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhrRef.current = xhr;
    xhr.open('PATCH', `/api/uploads/${encodeURIComponent(id)}`);
    xhr.setRequestHeader('Upload-Offset', String(offset));
    xhr.setRequestHeader('Tus-Resumable', '1.0.0');
    xhr.setRequestHeader('Content-Type', 'application/offset+octet-stream');
    xhr.setRequestHeader('Accept', 'application/json');
    const csrf = getCsrfToken();
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.onprogress = (e) => onBytes(e.loaded);
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      const h = xhr.getResponseHeader('Upload-Offset');
      resolve({ status: xhr.status, offset: h === null ? null : Number(h), body });
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', ''));
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    xhr.send(blob);
  });
}

function errorFrom(status: number, body: unknown): ApiError {
  const e = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)?.error;
  return new ApiError(status, e?.code ?? `http_${status}`, e?.message ?? '', e?.details ?? {});
}

export class ResumableUpload {
  private readonly file: File;
  private readonly target: UploadTarget;
  private readonly onProgress: (p: UploadProgress) => void;
  private readonly key: string;
  private readonly chunk: number;
  private id: string | null = null;
  private offset = 0;
  private paused = false;
  private xhr = { current: null as XMLHttpRequest | null };
  private samples: { t: number; bytes: number }[] = [];
  private progress: UploadProgress;
  private running = false;

  constructor(file: File, target: UploadTarget, onProgress: (p: UploadProgress) => void) {
    this.file = file;
    this.target = target;
    this.onProgress = onProgress;
    this.key = fileKey(target.meetingId, file);
    this.chunk = chunkSizeFor(file.size);
    this.progress = { state: 'idle', sent: 0, total: file.size, bytesPerSecond: 0, secondsLeft: null };
  }

  private emit(p: Partial<UploadProgress>) {
    this.progress = { ...this.progress, ...p };
    this.onProgress(this.progress);
  }

  private sample(sent: number) {
    const now = performance.now();
    this.samples.push({ t: now, bytes: sent });
    while (this.samples.length > 2 && now - this.samples[0].t > 5000) this.samples.shift();
    const first = this.samples[0];
    const dt = (now - first.t) / 1000;
    const speed = dt > 0.2 ? (sent - first.bytes) / dt : this.progress.bytesPerSecond;
    const left = speed > 0 ? (this.file.size - sent) / speed : null;
    this.emit({ sent, bytesPerSecond: speed, secondsLeft: left });
  }

  // Where the server is: a remembered upload's offset, or a new upload.
  private async locate(): Promise<void> {
    const known = this.id ?? (typeof localStorage !== 'undefined' ? localStorage.getItem(this.key) : null);
    if (known) {
      try {
        const r = await request<unknown>('HEAD', `/api/uploads/${encodeURIComponent(known)}`);
        this.id = known;
        this.offset = Number(r.headers.get('Upload-Offset') ?? 0);
        if (this.progress.resumedFrom === undefined && this.offset > 0) this.emit({ resumedFrom: this.offset });
        return;
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 404) throw e;
        remember(this.key, null);  // expired or finished elsewhere: start again
      }
    }
    this.emit({ state: 'creating' });
    const created = await request<{ id: string }>('POST', '/api/uploads', {
      headers: { 'Upload-Length': String(this.file.size), 'Tus-Resumable': '1.0.0' },
      body: { meeting_id: this.target.meetingId, consent: this.target.consent, filename: this.file.name, ...(this.target.title ? { title: this.target.title } : {}) },
    });
    this.id = created.data.id;
    this.offset = 0;
    remember(this.key, this.id);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.paused = false;
    let backoff = 1000;
    try {
      for (;;) {
        if (this.paused) return this.emit({ state: 'paused' });
        try {
          await this.locate();
          this.sample(this.offset);
          this.emit({ state: 'uploading' });
          while (this.offset < this.file.size) {
            if (this.paused) return this.emit({ state: 'paused' });
            const end = Math.min(this.file.size, this.offset + this.chunk);
            const base = this.offset;
            const r = await patch(this.id!, base, this.file.slice(base, end), (n) => this.sample(base + n), this.xhr);
            if (r.status === 401) {
              notifyUnauthorized();
              throw errorFrom(401, r.body);
            }
            if (r.status === 409 && r.offset !== null) {
              this.offset = r.offset;  // the server has a different view: continue from its offset
              continue;
            }
            if (r.status === 201) {
              remember(this.key, null);
              this.emit({ state: 'done', sent: this.file.size, secondsLeft: 0, recording: r.body as UploadProgress['recording'] });
              return;
            }
            if (r.status >= 400) throw errorFrom(r.status, r.body);
            this.offset = r.offset ?? end;
            backoff = 1000;
            if (this.offset >= this.file.size) this.emit({ state: 'finishing' });
          }
        } catch (e) {
          if (e instanceof DOMException && e.name === 'AbortError') return this.emit({ state: 'paused' });
          const transient = e instanceof ApiError && (e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504 || e.status === 423);
          if (!transient) {
            // Refused for good (limit, consent, not audio...): forget it, the server kept nothing.
            if (e instanceof ApiError && e.status !== 401 && e.status !== 403) remember(this.key, null);
            return this.emit({ state: 'error', error: e as Error });
          }
          this.emit({ state: 'reconnecting', bytesPerSecond: 0, secondsLeft: null });
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, 15000);
        }
      }
    } finally {
      this.running = false;
    }
  }

  pause(): void {
    this.paused = true;
    this.xhr.current?.abort();
  }

  // Gives up: the server removes what it received.
  async cancel(): Promise<void> {
    this.pause();
    const id = this.id ?? localStorage.getItem(this.key);
    remember(this.key, null);
    if (id) await request('DELETE', `/api/uploads/${encodeURIComponent(id)}`).catch(() => {});
  }
}
