// Who is signed in: /api/auth/me, cached by TanStack Query. A 401 from any call clears it and
// sends the user to sign-in with ?next= the page they were on.
import { createContext, useContext, useEffect, useMemo, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router-dom';
import { api, isApiError, setCsrfToken, setUnauthorizedHandler } from './client';

export interface Me {
  user_id: string | null;
  api_key_id: string | null;
  firm_id: string | null;
  role: string;
  email: string;
  name: string;
  csrf_token?: string;
  // The platform admin, acting in a firm or not.
  platform_admin?: boolean;
  // The firm the platform admin acts in now (as its admin), or null.
  acting_firm?: { id: string; name: string; since: string } | null;
}

const ROLE_RANK: Record<string, number> = { member: 1, admin: 2, owner: 3, platform_admin: 4 };

export function hasRole(me: Me | null | undefined, min: 'member' | 'admin' | 'owner' | 'platform_admin'): boolean {
  if (!me) return false;
  if (min === 'platform_admin') return me.role === 'platform_admin';
  if (me.role === 'platform_admin') return false;
  return (ROLE_RANK[me.role] ?? 0) >= ROLE_RANK[min];
}

interface SessionValue {
  me: Me | null;
  loading: boolean;
  refresh: () => Promise<void>;
}

const SessionContext = createContext<SessionValue>({ me: null, loading: true, refresh: async () => {} });

export const ME_KEY = ['auth', 'me'] as const;

export async function fetchMe(): Promise<Me | null> {
  try {
    const me = await api.get<Me>('/api/auth/me', { noAuthRedirect: true });
    setCsrfToken(me.csrf_token);
    return me;
  } catch (e) {
    if (isApiError(e) && e.status === 401) return null;
    throw e;
  }
}

export function signInPath(location: { pathname: string; search: string }): string {
  const next = location.pathname + location.search;
  return next && next !== '/' && !next.startsWith('/sign-in') ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in';
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const q = useQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: 5 * 60_000, retry: 1 });

  useEffect(() => {
    setUnauthorizedHandler(() => {
      qc.setQueryData(ME_KEY, null);
      setCsrfToken(null);
      const loc = window.location;
      if (loc.pathname.startsWith('/sign-in')) return;
      const to = signInPath(loc);
      navigate(`${to}${to.includes('?') ? '&' : '?'}expired=1`, { replace: true });
    });
    return () => setUnauthorizedHandler(null);
  }, [qc, navigate]);

  const value = useMemo<SessionValue>(
    () => ({
      me: q.data ?? null,
      loading: q.isPending,
      refresh: async () => {
        await qc.invalidateQueries({ queryKey: ME_KEY });
      },
    }),
    [q.data, q.isPending, qc],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  return useContext(SessionContext);
}
