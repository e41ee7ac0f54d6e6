// The firm name in the header; for the platform admin, the firm switcher: choosing a firm makes
// the session act in it as its admin (PUT /api/auth/acting-firm, audited on both sides), and the
// banner (ActingBanner) says so on every page with the way back.
import { Alert, Button, Group, Select, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api, setCsrfToken, type Page } from '../api/client';
import { ME_KEY, useSession, type Me } from '../api/session';
import { notify } from '../lib/notify';
import { useErrorMessage } from './States';

interface Firm {
  id: string;
  name: string;
}

// Starting or stopping: every cached page belonged to the previous firm (or to none).
export function useActingFirm() {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const errorMessage = useErrorMessage();
  const { t } = useTranslation();
  const apply = (me: Me, to: string) => {
    qc.clear();
    setCsrfToken(me.csrf_token);
    qc.setQueryData(ME_KEY, me);
    navigate(to, { replace: true });
  };
  const onError = (e: unknown) => notify({ color: 'red', title: t('errors.title'), message: errorMessage(e) });
  const start = useMutation({
    mutationFn: (firmId: string) => api.put<Me>('/api/auth/acting-firm', { firm_id: firmId }),
    onSuccess: (me) => apply(me, '/clients'),
    onError,
  });
  const stop = useMutation({
    mutationFn: () => api.del<Me>('/api/auth/acting-firm'),
    onSuccess: (me) => apply(me, '/admin/firms'),
    onError,
  });
  return { start, stop };
}

export function FirmSwitcher() {
  const { t } = useTranslation();
  const { me } = useSession();
  const { start } = useActingFirm();
  const platform = !!me?.platform_admin;
  const firm = useQuery({ queryKey: ['firm'], queryFn: () => api.get<Firm>('/api/firm'), enabled: !!me?.firm_id && !platform });
  // While acting, the platform routes answer 403: the list is read before, and kept.
  const firms = useQuery({
    queryKey: ['platform', 'firms'],
    queryFn: () => api.get<Page<Firm>>('/api/admin/firms'),
    enabled: platform && !me?.acting_firm,
    staleTime: Infinity,
  });
  if (!platform) return firm.data ? <Text size="sm" c="dimmed" visibleFrom="sm">{firm.data.name}</Text> : null;
  const data = (firms.data?.data ?? []).map((f) => ({ value: f.id, label: f.name }));
  if (me?.acting_firm && !data.some((d) => d.value === me.acting_firm!.id)) data.push({ value: me.acting_firm.id, label: me.acting_firm.name });
  return (
    <Select
      size="xs"
      w={220}
      aria-label={t('firms.switcher')}
      placeholder={t('firms.switcher')}
      data={data}
      value={me?.acting_firm?.id ?? null}
      onChange={(id) => id && id !== me?.acting_firm?.id && start.mutate(id)}
      disabled={start.isPending || !!me?.acting_firm}
      searchable
      nothingFoundMessage={t('common.noResults')}
      data-testid="firm-switcher"
    />
  );
}

// On every page while the platform admin acts in a firm: which firm, and the way out.
export function ActingBanner() {
  const { t } = useTranslation();
  const { me } = useSession();
  const { stop } = useActingFirm();
  if (!me?.acting_firm) return null;
  return (
    <Alert color="orange" variant="light" mb="md" role="status" data-testid="acting-banner" style={{ border: '2px solid var(--mantine-color-orange-7)' }}>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Text size="sm" fw={600} c="dark.9">
          {t('firms.actingIn', { name: me.acting_firm.name })}
        </Text>
        <Button size="compact-sm" color="dark" onClick={() => stop.mutate()} loading={stop.isPending}>
          {t('firms.stopActing')}
        </Button>
      </Group>
    </Alert>
  );
}
