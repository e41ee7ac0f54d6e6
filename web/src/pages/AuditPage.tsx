// The firm's audit log, newest first, page by page.
import { Code, Stack, Table, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, type Page } from '../api/client';
import { useUsers, userName } from '../api/hooks';
import { LoadMore, QueryState } from '../components/QueryState';
import { EmptyState } from '../components/States';
import { formatDateTime } from '../lib/format';

interface AuditEntry {
  id: string;
  actor_user_id: string | null;
  actor_api_key_id: string | null;
  action: string;
  object_type: string | null;
  object_id: string | null;
  details: unknown;
  ip: string | null;
  created_at: string;
}

// Who acted: a user of the firm, an API key, or the platform admin acting in the firm (its entries
// carry details.acting_platform_admin), or for the platform's log its own admin.
function actor(e: AuditEntry, users: ReturnType<typeof useUsers>['data'], t: (k: string, o?: Record<string, string>) => string): string {
  const d = e.details as { acting_platform_admin?: { email?: string } } | null;
  if (d && d.acting_platform_admin) return t('audit.platformAdmin', { email: d.acting_platform_admin.email ?? '' });
  return userName(users?.data, e.actor_user_id) || (e.actor_api_key_id ? t('audit.apiKey') : e.actor_user_id ? t('audit.platform') : t('common.none'));
}

export function AuditLog({ platform = false }: { platform?: boolean }) {
  const { t, i18n } = useTranslation();
  const users = useUsers(!platform);
  const list = useInfiniteQuery({
    queryKey: ['audit', platform ? 'platform' : 'firm'],
    initialPageParam: '',
    queryFn: ({ pageParam }) => api.get<Page<AuditEntry>>(platform ? '/api/admin/audit' : '/api/audit', { query: { limit: 50, cursor: pageParam } }),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <Stack>
      <Title order={1}>{platform ? t('audit.platformTitle') : t('audit.title')}</Title>
      <QueryState query={list} empty={<EmptyState title={t('audit.empty')} />}>
        {() => (
          <Table.ScrollContainer minWidth={700}>
            <Table striped aria-label={t('audit.title')}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('audit.when')}</Table.Th>
                  <Table.Th>{t('audit.who')}</Table.Th>
                  <Table.Th>{t('audit.action')}</Table.Th>
                  <Table.Th>{t('audit.object')}</Table.Th>
                  <Table.Th>{t('audit.ip')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td>{formatDateTime(e.created_at, i18n.language)}</Table.Td>
                    <Table.Td>{actor(e, users.data, t)}</Table.Td>
                    <Table.Td>
                      <Code>{e.action}</Code>
                    </Table.Td>
                    <Table.Td>{objectOf(e)}</Table.Td>
                    <Table.Td>{e.ip}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <LoadMore query={list} />
    </Stack>
  );
}

function objectOf(e: AuditEntry): string {
  const d = e.details as { firm_name?: string } | null;
  if (d && d.firm_name) return d.firm_name;
  return e.object_type ? `${e.object_type} ${e.object_id ?? ''}` : '';
}

export default function AuditPage() {
  return <AuditLog />;
}
