// Routes, each page its own chunk (lazy), so the first load carries only the shell.
import { lazy, Suspense, type ComponentType } from 'react';
import { createBrowserRouter, Navigate, Outlet } from 'react-router-dom';
import { SessionProvider } from './api/session';
import { Layout } from './components/Layout';
import { HomeRedirect, RequireAuth } from './components/RequireAuth';
import { PageLoader } from './components/States';

function page(load: () => Promise<{ default: ComponentType }>) {
  const C = lazy(load);
  return (
    <Suspense fallback={<PageLoader />}>
      <C />
    </Suspense>
  );
}

function Root() {
  return (
    <SessionProvider>
      <Outlet />
    </SessionProvider>
  );
}

export const routes = [
  {
    element: <Root />,
    children: [
      { path: '/sign-in', element: page(() => import('./pages/SignInPage')) },
      { path: '/forgot-password', element: page(() => import('./pages/ForgotPasswordPage')) },
      { path: '/reset-password', element: page(() => import('./pages/ResetPasswordPage')) },
      { path: '/invitation', element: page(() => import('./pages/AcceptInvitationPage')) },
      {
        element: (
          <RequireAuth>
            <Layout />
          </RequireAuth>
        ),
        children: [
          { path: '/', element: <HomeRedirect /> },
          { path: '/clients', element: page(() => import('./pages/ClientsPage')) },
          { path: '/clients/:clientId', element: page(() => import('./pages/ClientPage')) },
          { path: '/meetings/:meetingId', element: page(() => import('./pages/MeetingPage')) },
          { path: '/meetings/:meetingId/recordings/:recordingId', element: page(() => import('./pages/TranscriptPage')) },
          { path: '/recordings/:recordingId', element: page(() => import('./pages/TranscriptPage')) },
          { path: '/reports/:reportId', element: page(() => import('./pages/ReportPage')) },
          { path: '/search', element: page(() => import('./pages/SearchPage')) },
          { path: '/mails', element: page(() => import('./pages/OutboxPage')) },
          { path: '/mails/:mailId', element: page(() => import('./pages/MailPage')) },
          { path: '/admin/mails', element: page(() => import('./pages/PlatformOutboxPage')) },
          { path: '/admin/mails/:mailId', element: page(() => import('./pages/PlatformMailPage')) },
          { path: '/tasks', element: page(() => import('./pages/TasksPage')) },
          { path: '/settings', element: <Navigate to="/settings/firm" replace /> },
          { path: '/settings/:section', element: page(() => import('./pages/SettingsPage')) },
          { path: '/admin/firms', element: page(() => import('./pages/AdminFirmsPage')) },
          { path: '/admin/jobs', element: page(() => import('./pages/AdminJobsPage')) },
          { path: '/admin/audit', element: page(() => import('./pages/AuditPage')) },
          { path: '/admin/platform-audit', element: page(() => import('./pages/PlatformAuditPage')) },
          { path: '*', element: page(() => import('./pages/NotFoundPage')) },
        ],
      },
    ],
  },
];

export const router = createBrowserRouter(routes);
