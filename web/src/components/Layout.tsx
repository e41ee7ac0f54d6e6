// The application shell: header (firm, language, user menu), navigation, and the page.
import { AppShell, Burger, Button, Group, NavLink, SegmentedControl, Text, VisuallyHidden } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, Outlet, useLocation, useNavigate } from 'react-router-dom';
import { api, setCsrfToken } from '../api/client';
import { hasRole, ME_KEY, useSession } from '../api/session';
import { setLanguage, type Language } from '../i18n';
import { ActingBanner, FirmSwitcher } from './FirmSwitcher';

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <SegmentedControl
      size="xs"
      aria-label={t('nav.language')}
      value={i18n.language}
      onChange={(v) => setLanguage(v as Language)}
      data={[
        { value: 'fr', label: 'FR' },
        { value: 'en', label: 'EN' },
      ]}
    />
  );
}

export function Layout() {
  const { t } = useTranslation();
  const { me } = useSession();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const navigate = useNavigate();
  const qc = useQueryClient();

  async function signOut() {
    try {
      await api.post('/api/auth/logout');
    } finally {
      setCsrfToken(null);
      qc.clear();
      qc.setQueryData(ME_KEY, null);
      navigate('/sign-in', { replace: true });
    }
  }

  const links: { to: string; label: string; show: boolean }[] = [
    { to: '/clients', label: t('nav.clients'), show: !!me?.firm_id },
    { to: '/tasks', label: t('nav.tasks'), show: !!me?.firm_id },
    { to: '/search', label: t('nav.search'), show: !!me?.firm_id },
    { to: '/settings/firm', label: t('nav.settings'), show: hasRole(me, 'admin') },
    { to: '/mails', label: t('nav.outbox'), show: hasRole(me, 'admin') || (hasRole(me, 'platform_admin') && !!me?.firm_id) },
    { to: '/admin/jobs', label: t('nav.jobs'), show: hasRole(me, 'admin') || hasRole(me, 'platform_admin') },
    { to: '/admin/audit', label: t('nav.audit'), show: hasRole(me, 'admin') },
    { to: '/admin/firms', label: t('nav.firms'), show: hasRole(me, 'platform_admin') },
    { to: '/admin/platform-audit', label: t('nav.platformAudit'), show: hasRole(me, 'platform_admin') },
    { to: '/admin/mails', label: t('nav.platformOutbox'), show: hasRole(me, 'platform_admin') },
  ];

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <a className="skip-link" href="#main">
        {t('nav.skip')}
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t('nav.menu')} />
            <Text component={Link} to="/" fw={700} size="lg" c="indigo.9" style={{ textDecoration: 'none' }}>
              crm-ai
            </Text>
            <FirmSwitcher />
          </Group>
          <Group gap="sm" wrap="nowrap">
            <LanguageSwitch />
            <Text size="sm" visibleFrom="sm" data-testid="who">
              {me?.name || me?.email}
            </Text>
            <Button size="xs" variant="default" onClick={signOut}>
              {t('nav.signOut')}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={t('nav.main')}>
        <nav aria-label={t('nav.main')}>
          <VisuallyHidden>
            <h2>{t('nav.main')}</h2>
          </VisuallyHidden>
          {links
            .filter((l) => l.show)
            .map((l) => (
              <NavLink
                key={l.to}
                component={Link}
                to={l.to}
                label={l.label}
                active={location.pathname.startsWith(l.to.replace(/\/firm$/, ''))}
                onClick={close}
              />
            ))}
        </nav>
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <ActingBanner />
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
