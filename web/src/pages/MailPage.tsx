// One mail of the outbox: subject, recipients, status with its attempts and last error (and a
// retry when it failed, in the firm's view), the body (HTML in a sandboxed frame, or the text part), attachments.
import { Alert, Anchor, Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { api } from '../api/client';
import { MailAttachments, MailBody, MailStatusBadge, Recipients } from '../components/mails/MailParts';
import { inFlight, lastErrorText, type Mail } from '../components/mails/types';
import { MAILS_KEY, useRetryMail } from '../components/mails/useRetryMail';
import { QueryState } from '../components/QueryState';
import { pickLanguage } from '../components/States';
import { formatDateTime } from '../lib/format';

export function MailView({ platform = false }: { platform?: boolean }) {
  const { mailId = '' } = useParams();
  const { t, i18n } = useTranslation();
  const base = platform ? '/api/admin/mails' : '/api/mails';
  const retry = useRetryMail();
  const mail = useQuery({
    queryKey: [...MAILS_KEY, platform ? 'platform' : 'firm', mailId],
    queryFn: () => api.get<Mail>(`${base}/${mailId}`),
    refetchInterval: (q) => (q.state.data && inFlight(q.state.data) ? 2000 : false),
  });
  const lang = i18n.language;
  return (
    <Stack>
      <Anchor component={Link} to={platform ? '/admin/mails' : '/mails'} size="sm">
        ← {t('mails.backToOutbox')}
      </Anchor>
      <QueryState query={mail}>
        {(m) => (
          <Stack data-testid="mail-view">
            <Group gap="sm" wrap="wrap">
              <Title order={1}>{m.subject || t('mails.noSubject')}</Title>
              <MailStatusBadge status={m.status} />
            </Group>
            <Card withBorder>
              <Stack gap="xs">
                <Recipients mail={m} />
                <Text size="sm" c="dimmed">
                  {t(`mails.kind_${m.kind}`, { defaultValue: m.kind })} · {t('mails.createdAt', { date: formatDateTime(m.created_at, lang) })}
                  {m.sent_at ? ` · ${t('mails.sentAt', { date: formatDateTime(m.sent_at, lang) })}` : ''}
                  {m.attempts > 0 ? ` · ${t('mails.attempts', { count: m.attempts })}` : ''}
                </Text>
                {m.status === 'kept' && (
                  <Text size="sm" c="dimmed">
                    {t('mails.keptHint')}
                  </Text>
                )}
                {m.report_id && !platform && (
                  <Anchor component={Link} to={`/reports/${m.report_id}`} size="sm">
                    {t('mails.openReport')}
                  </Anchor>
                )}
                {m.last_error && (
                  <Alert color={m.status === 'failed' ? 'red' : 'orange'} title={t('mails.lastError')} role={m.status === 'failed' ? 'alert' : undefined} data-testid="mail-error">
                    <Stack gap="xs">
                      <Text size="sm">{pickLanguage(lastErrorText(m.last_error), lang)}</Text>
                      {m.status === 'failed' && !platform && (
                        <Group>
                          <Button size="xs" onClick={() => retry.mutate(m.id)} loading={retry.isPending} data-testid="mail-retry">
                            {t('mails.retry')}
                          </Button>
                        </Group>
                      )}
                    </Stack>
                  </Alert>
                )}
                <MailAttachments mail={m} base={platform ? null : '/api/mails'} />
              </Stack>
            </Card>
            <Card withBorder>
              <Title order={2} size="h4" mb="xs">
                {t('mails.body')}
              </Title>
              <MailBody mail={m} />
            </Card>
          </Stack>
        )}
      </QueryState>
    </Stack>
  );
}

export default function MailPage() {
  return <MailView />;
}
