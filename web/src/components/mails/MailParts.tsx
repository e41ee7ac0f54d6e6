// Pieces of a mail shown on the outbox, the mail's page and the report page: its status badge,
// its body (HTML in a sandboxed frame, never in the page's own DOM; or the text part) and its
// attachments with their download links.
import { Anchor, Badge, Group, SegmentedControl, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatBytes } from '../../lib/format';
import type { Mail, MailStatus } from './types';

const STATUS_COLOR: Record<MailStatus, string> = { queued: 'gray', sending: 'blue', sent: 'green', failed: 'red', kept: 'indigo' };

// A paperclip, drawn (no emoji font is needed), hidden from screen readers: the text says it.
export function PaperclipIcon({ size = 14 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" aria-hidden focusable="false" style={{ verticalAlign: '-2px' }}>
      <path d="M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48" />
    </svg>
  );
}

export function MailStatusBadge({ status }: { status: MailStatus }) {
  const { t } = useTranslation();
  const color = STATUS_COLOR[status] ?? 'gray';
  return (
    <Badge color={color} variant="light" c={color === 'gray' ? 'dark.6' : `${color}.9`} data-testid="mail-status" data-status={status}>
      {t(`mails.status_${status}`, { defaultValue: status })}
    </Badge>
  );
}

// The mail's HTML, alone in an opaque-origin frame: no scripts (sandbox without allow-scripts),
// no forms, no plugins, no navigation of this page; and, from its own policy, nothing fetched
// from anywhere (remote images included), so opening a mail tells no one it was read.
const FRAME_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:";

export function mailSrcDoc(html: string): string {
  return (
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${FRAME_POLICY}">` +
    '<style>body{font-family:system-ui,sans-serif;font-size:14px;line-height:1.5;margin:12px;color:#212529}</style>' +
    `</head><body>${html}</body></html>`
  );
}

export function MailBody({ mail }: { mail: Pick<Mail, 'html' | 'text' | 'subject'> }) {
  const { t } = useTranslation();
  const hasHtml = !!mail.html;
  const hasText = !!mail.text;
  const [view, setView] = useState<'html' | 'text'>(hasHtml ? 'html' : 'text');
  if (!hasHtml && !hasText)
    return (
      <Text size="sm" c="dimmed">
        {t('mails.noBody')}
      </Text>
    );
  return (
    <Stack gap="xs">
      {hasHtml && hasText && (
        <SegmentedControl
          size="xs"
          aria-label={t('mails.bodyView')}
          value={view}
          onChange={(v) => setView(v as 'html' | 'text')}
          data={[
            { value: 'html', label: t('mails.viewHtml') },
            { value: 'text', label: t('mails.viewText') },
          ]}
          w="fit-content"
        />
      )}
      {view === 'html' && hasHtml ? (
        <iframe
          sandbox=""
          referrerPolicy="no-referrer"
          srcDoc={mailSrcDoc(mail.html!)}
          title={t('mails.bodyFrame', { subject: mail.subject })}
          data-testid="mail-html"
          style={{ width: '100%', height: 480, border: '1px solid var(--mantine-color-gray-4)', borderRadius: 4, background: 'white', resize: 'vertical' }}
        />
      ) : (
        <Text component="pre" size="sm" data-testid="mail-text" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word', fontFamily: 'inherit', margin: 0 }}>
          {mail.text}
        </Text>
      )}
    </Stack>
  );
}

// `base` null: names only (the platform reads a firm's mail, the firm downloads its files).
export function MailAttachments({ mail, base = '/api/mails' }: { mail: Pick<Mail, 'id' | 'attachments'>; base?: string | null }) {
  const { t, i18n } = useTranslation();
  if (!mail.attachments?.length) return null;
  return (
    <Stack gap={4} data-testid="mail-attachments">
      <Text size="sm" fw={600}>
        {t('mails.attachments', { count: mail.attachments.length })}
      </Text>
      {mail.attachments.map((a) => (
        <Group key={a.id} gap="xs">
          {base ? (
            <Anchor href={`${base}/${mail.id}/attachments/${a.id}`} download={a.file_name} size="sm" data-testid="mail-attachment">
              <PaperclipIcon /> {a.file_name}
            </Anchor>
          ) : (
            <Text size="sm" data-testid="mail-attachment-name">
              <PaperclipIcon /> {a.file_name}
            </Text>
          )}
          <Text size="xs" c="dimmed">
            {formatBytes(a.size, i18n.language)}
          </Text>
        </Group>
      ))}
    </Stack>
  );
}

export function Recipients({ mail }: { mail: Pick<Mail, 'to' | 'cc'> }) {
  const { t } = useTranslation();
  return (
    <Stack gap={0}>
      <Text size="sm">
        <strong>{t('mails.toLabel')}</strong> {mail.to.join(', ')}
      </Text>
      {mail.cc.length > 0 && (
        <Text size="sm">
          <strong>{t('mails.ccLabel')}</strong> {mail.cc.join(', ')}
        </Text>
      )}
    </Stack>
  );
}
