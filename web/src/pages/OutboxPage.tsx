// The outbox (boîte d'envoi): every mail the firm sent or is sending (platform admin: every
// firm's), newest first, page by page, filtered by status; a failed mail shows its error and the
// firm can send it again; a mail opens on its own page.
import { Anchor, Button, Group, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { api, type Page } from '../api/client';
import { MailStatusBadge, PaperclipIcon } from '../components/mails/MailParts';
import { inFlight, lastErrorText, MAIL_STATUSES, type Mail } from '../components/mails/types';
import { MAILS_KEY, useRetryMail } from '../components/mails/useRetryMail';
import { LoadMore, QueryState } from '../components/QueryState';
import { EmptyState, pickLanguage } from '../components/States';
import { formatDateTime } from '../lib/format';

interface Firm {
  id: string;
  name: string;
}

export function Outbox({ platform = false }: { platform?: boolean }) {
  const { t, i18n } = useTranslation();
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const base = platform ? '/api/admin/mails' : '/api/mails';
  const retry = useRetryMail();
  const firms = useQuery({ queryKey: ['admin', 'firms'], queryFn: () => api.get<Page<Firm>>('/api/admin/firms'), enabled: platform });
  const firmNames = new Map((firms.data?.data ?? []).map((f) => [f.id, f.name]));
  const list = useInfiniteQuery({
    queryKey: [...MAILS_KEY, platform ? 'platform' : 'firm', { status }],
    initialPageParam: '',
    queryFn: ({ pageParam, signal }) => api.get<Page<Mail>>(base, { query: { status, limit: 50, cursor: pageParam }, signal }),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    // While a mail is on its way, its status is read again.
    refetchInterval: (q) => (q.state.data?.pages.some((p) => p.data.some(inFlight)) ? 3000 : false),
  });
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  const lang = i18n.language;
  const detail = platform ? '/admin/mails' : '/mails';
  return (
    <Stack>
      <Title order={1}>{platform ? t('mails.platformTitle') : t('mails.title')}</Title>
      <Text size="sm" c="dimmed">
        {t('mails.intro')}
      </Text>
      <Group align="flex-end">
        <Select
          label={t('mails.statusFilter')}
          value={status || 'all'}
          onChange={(v) => {
            const next = new URLSearchParams(params);
            if (v && v !== 'all') next.set('status', v);
            else next.delete('status');
            setParams(next, { replace: true });
          }}
          data={[{ value: 'all', label: t('mails.allStatuses') }, ...MAIL_STATUSES.map((s) => ({ value: s, label: t(`mails.status_${s}`) }))]}
          allowDeselect={false}
          w={240}
          data-testid="mail-status-filter"
        />
      </Group>
      <QueryState query={list} empty={<EmptyState title={status ? t('mails.noMatch') : t('mails.empty')} hint={status ? undefined : t('mails.emptyHint')} />}>
        {() => (
          <Table.ScrollContainer minWidth={720}>
            <Table striped aria-label={platform ? t('mails.platformTitle') : t('mails.title')} data-testid="outbox-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('mails.created')}</Table.Th>
                  {platform && <Table.Th>{t('mails.firm')}</Table.Th>}
                  <Table.Th>{t('mails.subject')}</Table.Th>
                  <Table.Th>{t('mails.recipients')}</Table.Th>
                  <Table.Th>{t('mails.kind')}</Table.Th>
                  <Table.Th>{t('mails.status')}</Table.Th>
                  {!platform && <Table.Th>{t('common.actions')}</Table.Th>}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((m) => (
                  <Table.Tr key={m.id} data-testid="outbox-row" data-status={m.status}>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(m.created_at, lang)}</Table.Td>
                    {platform && <Table.Td>{m.firm_id ? firmNames.get(m.firm_id) ?? m.firm_id : t('mails.platformOwn')}</Table.Td>}
                    <Table.Td>
                      <Anchor component={Link} to={`${detail}/${m.id}`} size="sm" fw={500} data-testid="outbox-open">
                        {m.subject || t('mails.noSubject')}
                      </Anchor>
                      {m.attachments.length > 0 && (
                        <Text size="xs" c="dimmed">
                          <PaperclipIcon /> {m.attachments.map((a) => a.file_name).join(', ')}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{m.to.join(', ')}</Text>
                      {m.cc.length > 0 && (
                        <Text size="xs" c="dimmed">
                          {t('mails.ccLabel')} {m.cc.join(', ')}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>{t(`mails.kind_${m.kind}`, { defaultValue: m.kind })}</Table.Td>
                    <Table.Td>
                      <Stack gap={2} align="flex-start">
                        <MailStatusBadge status={m.status} />
                        {m.attempts > 0 && (
                          <Text size="xs" c="dimmed">
                            {t('mails.attempts', { count: m.attempts })}
                          </Text>
                        )}
                        {m.status === 'failed' && m.last_error && (
                          <Text size="xs" c="red.8" data-testid="outbox-error">
                            {pickLanguage(lastErrorText(m.last_error), lang)}
                          </Text>
                        )}
                      </Stack>
                    </Table.Td>
                    {!platform && (
                      <Table.Td>
                        {m.status === 'failed' && (
                          <Button
                            size="compact-xs"
                            variant="default"
                            onClick={() => retry.mutate(m.id)}
                            loading={retry.isPending && retry.variables === m.id}
                            aria-label={t('mails.retryOne', { subject: m.subject })}
                          >
                            {t('mails.retry')}
                          </Button>
                        )}
                      </Table.Td>
                    )}
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

export default function OutboxPage() {
  return <Outbox />;
}
