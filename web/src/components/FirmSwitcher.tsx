// The firm name in the header; for the platform admin, the list of firms to open.
import { Select, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api, type Page } from '../api/client';
import { hasRole, useSession } from '../api/session';

interface Firm {
  id: string;
  name: string;
}

export function FirmSwitcher() {
  const { t } = useTranslation();
  const { me } = useSession();
  const navigate = useNavigate();
  const admin = hasRole(me, 'platform_admin');
  const firm = useQuery({ queryKey: ['firm'], queryFn: () => api.get<Firm>('/api/firm'), enabled: !!me?.firm_id });
  const firms = useQuery({ queryKey: ['admin', 'firms'], queryFn: () => api.get<Page<Firm>>('/api/admin/firms'), enabled: admin });
  if (!admin) return firm.data ? <Text size="sm" c="dimmed" visibleFrom="sm">{firm.data.name}</Text> : null;
  return (
    <Select
      size="xs"
      w={200}
      aria-label={t('firms.switcher')}
      placeholder={t('firms.switcher')}
      data={(firms.data?.data ?? []).map((f) => ({ value: f.id, label: f.name }))}
      onChange={(id) => id && navigate(`/admin/firms?firm=${encodeURIComponent(id)}`)}
      searchable
      nothingFoundMessage={t('common.noResults')}
    />
  );
}
