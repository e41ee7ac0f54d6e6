import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, buildUrl, setCsrfToken, setUnauthorizedHandler } from './client';
import { pickLanguage } from '../components/States';
import { safeNext } from '../pages/SignInPage';

function reply(status: number, body: unknown) {
  return vi.fn().mockImplementation(async () => new Response(body === null ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }));
}

afterEach(() => {
  vi.unstubAllGlobals();
  setUnauthorizedHandler(null);
  setCsrfToken(null);
});

describe('api client', () => {
  it('builds query strings, skipping empty values', () => {
    expect(buildUrl('/api/clients', { q: 'é', limit: 50, tag: '', cursor: undefined })).toBe('/api/clients?q=%C3%A9&limit=50');
  });
  it('sends the CSRF token on writes only', async () => {
    const f = reply(200, { ok: true });
    vi.stubGlobal('fetch', f);
    setCsrfToken('tok');
    await api.post('/api/clients', { name: 'A' });
    await api.get('/api/clients');
    expect(f.mock.calls[0][1].headers['X-CSRF-Token']).toBe('tok');
    expect(f.mock.calls[1][1].headers['X-CSRF-Token']).toBeUndefined();
  });
  it('turns the error shape into ApiError with field errors', async () => {
    vi.stubGlobal('fetch', reply(422, { error: { code: 'invalid_argument', message: 'Champs invalides / Invalid fields', details: { email: 'must_be_email' } } }));
    const e = (await api.post("/api/clients", {}).catch((x: unknown) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(422);
    expect(e.fieldErrors()).toEqual({ email: 'must_be_email' });
  });
  it('calls the unauthorized handler on 401 unless told not to', async () => {
    const h = vi.fn();
    setUnauthorizedHandler(h);
    vi.stubGlobal('fetch', reply(401, { error: { code: 'unauthenticated', message: 'x' } }));
    await api.get('/api/clients').catch(() => {});
    await api.get('/api/auth/me', { noAuthRedirect: true }).catch(() => {});
    expect(h).toHaveBeenCalledTimes(1);
  });
  it('reports a network failure as status 0', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')));
    const e = (await api.get("/api/x").catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(0);
    expect(e.code).toBe('network_error');
  });
});

describe('messages and redirects', () => {
  it('shows the half of a bilingual server message in the user language', () => {
    expect(pickLanguage('Introuvable. / Not found.', 'fr')).toBe('Introuvable.');
    expect(pickLanguage('Introuvable. / Not found.', 'en')).toBe('Not found.');
    expect(pickLanguage('Seulement en français', 'en')).toBe('Seulement en français');
  });
  it('follows only same-site paths after sign-in', () => {
    expect(safeNext('/clients/abc?x=1')).toBe('/clients/abc?x=1');
    expect(safeNext('//evil.example')).toBe('/clients');
    expect(safeNext('https://evil.example')).toBe('/clients');
    expect(safeNext(null)).toBe('/clients');
  });
});
