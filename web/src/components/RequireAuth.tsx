import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router-dom';
import { signInPath, useSession } from '../api/session';
import { PageLoader } from './States';

export function RequireAuth({ children }: { children: ReactNode }) {
  const { me, loading } = useSession();
  const location = useLocation();
  if (loading) return <PageLoader />;
  if (!me) return <Navigate to={signInPath(location)} replace />;
  return <>{children}</>;
}

// The home page: the firm's clients, or for the platform admin outside any firm, the firms.
export function HomeRedirect() {
  const { me } = useSession();
  return <Navigate to={me?.role === 'platform_admin' ? '/admin/firms' : '/clients'} replace />;
}
