// The mails a report was sent by, newest first, with their status (read again while one is on
// its way), the error of a failed one and its retry; admins open each in the outbox.
import { Anchor, Button, Card, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, type Page } from '../../api/client';
import { hasRole, useSession } from '../../api/session';
import { formatDateTime } from '../../lib/format';
import { QueryState } from '../QueryState';
import { EmptyState, pickLanguage } from '../States';
import { MailStatusBadge } from './MailParts';
import { MAILS_KEY, useRetryMail } from './useRetryMail';
import { inFlight, lastErrorText, type Mail } from './types';

export function ReportMails({ reportId }: { reportId: string }) {
  const { t, i18n } = useTranslation();
  const { me } = useSession();
  const canOpen = hasRole(me, 'admin') || (!!me?.platform_admin && !!me?.firm_id);
  const retry = useRetryMail();
  const mails = useQuery({
    queryKey: [...MAILS_KEY, 'report', reportId],
    queryFn: () => api.get<Page<Mail>>(`/api/reports/${reportId}/mails`),
    refetchInterval: (q) => (q.state.data?.data.some(inFlight) ? 2000 : false),
  });
  const lang = i18n.language;
  return (
    <Card withBorder data-testid="report-mails">
      <Stack gap="xs">
        <Title order={2} size="h4">
          {t('mails.reportMails')}
        </Title>
        <QueryState query={mails} empty={<EmptyState title={t('mails.reportNone')} hint={t('mails.reportNoneHint')} />}>
          {(data) => (
            <Table.ScrollContainer minWidth={560}>
              <Table aria-label={t('mails.reportMails')}>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('mails.created')}</Table.Th>
                    <Table.Th>{t('mails.recipients')}</Table.Th>
                    <Table.Th>{t('mails.status')}</Table.Th>
                    <Table.Th>{t('common.actions')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.data.map((m) => (
                    <Table.Tr key={m.id} data-testid="report-mail" data-status={m.status}>
                      <Table.Td>{formatDateTime(m.created_at, lang)}</Table.Td>
                      <Table.Td>
                        <Text size="sm">{m.to.join(', ')}</Text>
                        {m.cc.length > 0 && (
                          <Text size="xs" c="dimmed">
                            {t('mails.ccLabel')} {m.cc.join(', ')}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <MailStatusBadge status={m.status} />
                        {m.status === 'failed' && m.last_error && (
                          <Text size="xs" c="red.8">
                            {pickLanguage(lastErrorText(m.last_error), lang)}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        {canOpen && (
                          <Anchor component={Link} to={`/mails/${m.id}`} size="sm" aria-label={t('mails.openOne', { subject: m.subject })}>
                            {t('mails.open')}
                          </Anchor>
                        )}
                        {m.status === 'failed' && canOpen && (
                          <Button size="compact-xs" variant="default" ml="xs" onClick={() => retry.mutate(m.id)} loading={retry.isPending && retry.variables === m.id}>
                            {t('mails.retry')}
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </QueryState>
      </Stack>
    </Card>
  );
}
