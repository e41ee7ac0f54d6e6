// A multipart upload with progress (fetch reports none for request bodies): XMLHttpRequest with
// the CSRF token, the server's error shape turned into ApiError, a 401 sending to sign-in.
import { ApiError, getCsrfToken, notifyUnauthorized } from '../api/client';

export interface FormUploadOptions {
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

export function uploadForm<T>(url: string, form: FormData, opts: FormUploadOptions = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('Accept', 'application/json');
    const csrf = getCsrfToken();
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) opts.onProgress?.(e.loaded, e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', ''));
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    xhr.onload = () => {
      let data: unknown = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(data as T);
        return;
      }
      if (xhr.status === 401) notifyUnauthorized();
      const err = (data as { error?: { code: string; message: string; details?: Record<string, unknown> } } | null)?.error;
      reject(new ApiError(xhr.status, err?.code ?? `http_${xhr.status}`, err?.message ?? '', err?.details ?? {}));
    };
    opts.signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(form);
  });
}
