// Sends a reviewed meeting report by mail, its PDF attached: recipients (the client's address and
// its contacts suggested), copies, a subject written from the meeting's date in the mail's
// language until the user changes it, a message, the language. Checked here first, then by the
// server, whose 422 field errors are shown under their fields; the mail then leaves from the outbox.
import { Alert, Button, Group, Modal, Radio, Stack, TagsInput, Text, Textarea, TextInput } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { api, isApiError, type Page } from '../../api/client';
import type { Client, Contact, Meeting } from '../../api/hooks';
import { DEFAULT_TIME_ZONE } from '../../lib/format';
import { notify } from '../../lib/notify';
import type { Report } from '../reports/types';
import { useErrorMessage } from '../States';
import { PaperclipIcon } from './MailParts';
import { MAILS_KEY } from './useRetryMail';
import { fieldOf, MAX_MESSAGE, MAX_SUBJECT, sendBody, validateSend, type Mail, type SendValues } from './types';

const SPLIT = [',', ';', ' '];

// "1er décembre 2026" / "1 December 2026", in the firm's time zone.
export function longDate(iso: string, lang: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const s = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { dateStyle: 'long', timeZone: DEFAULT_TIME_ZONE }).format(d);
  // French writes the first of the month as an ordinal: « 1er décembre ».
  return lang === 'en' ? s : s.replace(/^1 /, '1er ');
}

// The meeting's date: the meeting itself, else the report's header, else when it was written.
function meetingDate(report: Report, meeting: Meeting | undefined): string {
  if (meeting?.starts_at) return meeting.starts_at;
  const h = report.header?.date;
  if (h && !Number.isNaN(Date.parse(h))) return h;
  return report.created_at;
}

export function SendReportDialog({ report, opened, onClose, onSent }: { report: Report; opened: boolean; onClose: () => void; onSent?: (m: Mail) => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const client = useQuery({ queryKey: ['clients', report.client_id], queryFn: () => api.get<Client>(`/api/clients/${report.client_id}`), enabled: opened });
  const contacts = useQuery({
    queryKey: ['contacts', report.client_id],
    queryFn: () => api.get<Page<Contact>>(`/api/clients/${report.client_id}/contacts`),
    enabled: opened,
  });
  const meeting = useQuery({
    queryKey: ['meetings', report.meeting_id],
    queryFn: () => api.get<Meeting>(`/api/meetings/${report.meeting_id}`),
    enabled: opened && !!report.meeting_id,
  });
  // The firm's language is the mail's until the user picks another.
  const firm = useQuery({ queryKey: ['firm'], queryFn: () => api.get<{ settings?: { language?: string } }>('/api/firm'), enabled: opened, retry: false });
  const [languagePicked, setLanguagePicked] = useState(false);
  const subjectFor = (lang: string) => t('mails.defaultSubject', { lng: lang, date: longDate(meetingDate(report, meeting.data), lang) });
  const form = useForm<SendValues>({ defaultValues: { to: [], cc: [], subject: subjectFor('fr'), message: '', language: 'fr' } });
  const [subjectEdited, setSubjectEdited] = useState(false);
  const [generalError, setGeneralError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const prefilled = useRef(false);
  const { to, cc, language } = form.watch();

  // The addresses the client's file knows: the client's own, then its contacts'.
  const known = useMemo(() => {
    const list = [client.data?.email, ...(contacts.data?.data ?? []).map((c) => c.email)].filter((e): e is string => !!e);
    return [...new Set(list)];
  }, [client.data, contacts.data]);

  useEffect(() => {
    if (!opened) {
      prefilled.current = false;
      return;
    }
    if (prefilled.current || client.isPending) return;
    prefilled.current = true;
    const first = client.data?.email ?? contacts.data?.data.find((c) => c.email)?.email;
    if (first && form.getValues('to').length === 0) form.setValue('to', [first]);
  }, [opened, client.isPending, client.data, contacts.data, form]);

  useEffect(() => {
    if (opened && firm.data && !languagePicked) form.setValue('language', firm.data.settings?.language === 'en' ? 'en' : 'fr');
  }, [opened, firm.data, languagePicked, form]);

  // The subject follows the language and the meeting's date as long as the user has not written one.
  useEffect(() => {
    if (!subjectEdited) form.setValue('subject', subjectFor(language));
  }, [language, meeting.data, subjectEdited]);

  const err = (k: keyof SendValues) => form.formState.errors[k]?.message;
  const reason = (code: string) => t(`validation.${code}`, { defaultValue: code });

  async function submit(values: SendValues) {
    setGeneralError(null);
    form.clearErrors();
    const bad = validateSend(values);
    if (Object.keys(bad).length) {
      for (const [k, code] of Object.entries(bad)) form.setError(k as keyof SendValues, { message: reason(code!) });
      return;
    }
    setSending(true);
    try {
      const mail = await api.post<Mail>(`/api/reports/${report.id}/mail`, sendBody(values));
      void qc.invalidateQueries({ queryKey: MAILS_KEY });
      notify({ color: 'green', message: t('mails.sentNotice', { to: mail.to?.join(', ') ?? values.to.join(', ') }) });
      onSent?.(mail);
      form.reset({ to: [], cc: [], subject: subjectFor('fr'), message: '', language: 'fr' });
      setSubjectEdited(false);
      setLanguagePicked(false);
      onClose();
    } catch (e) {
      if (isApiError(e) && e.status === 422) {
        let shown = false;
        for (const [path, why] of Object.entries(e.fieldErrors())) {
          const field = fieldOf(path);
          if (field) {
            form.setError(field, { message: reason(why) });
            shown = true;
          }
        }
        if (!shown) setGeneralError(errorMessage(e));
      } else setGeneralError(errorMessage(e));
    } finally {
      setSending(false);
    }
  }

  return (
    <Modal opened={opened} onClose={onClose} title={t('mails.sendTitle')} size="lg" closeButtonProps={{ 'aria-label': t('common.close') }}>
      <form onSubmit={form.handleSubmit(submit)} noValidate data-testid="send-report-form">
        <Stack>
          <TagsInput
            label={t('mails.toField')}
            description={t('mails.addressesHint')}
            data={known}
            value={to}
            onChange={(v) => {
              form.setValue('to', v);
              form.clearErrors('to');
            }}
            splitChars={SPLIT}
            clearable
            required
            error={err('to')}
            data-autofocus
            comboboxProps={{ withinPortal: true }}
          />
          <TagsInput
            label={t('mails.ccField')}
            description={t('mails.addressesHint')}
            data={known.filter((a) => !to.includes(a))}
            value={cc}
            onChange={(v) => {
              form.setValue('cc', v);
              form.clearErrors('cc');
            }}
            splitChars={SPLIT}
            clearable
            error={err('cc')}
          />
          <TextInput
            label={t('mails.subject')}
            maxLength={MAX_SUBJECT}
            {...form.register('subject', { onChange: () => setSubjectEdited(true) })}
            error={err('subject')}
          />
          <Textarea
            label={t('mails.message')}
            description={t('mails.messageHint')}
            autosize
            minRows={3}
            maxRows={10}
            maxLength={MAX_MESSAGE}
            {...form.register('message')}
            error={err('message')}
          />
          <Radio.Group label={t('mails.language')} value={language} onChange={(v) => {
              setLanguagePicked(true);
              form.setValue('language', v as 'fr' | 'en');
            }} error={err('language')}>
            <Group mt={4}>
              <Radio value="fr" label="Français" />
              <Radio value="en" label="English" />
            </Group>
          </Radio.Group>
          <Text size="sm" data-testid="send-attachment">
            <PaperclipIcon /> {t('mails.reportAttachment', { title: report.title || t('reports.untitled') })}
          </Text>
          {generalError && (
            <Alert color="red" role="alert" title={t('errors.title')}>
              {generalError}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={sending} data-testid="send-report-submit">
              {t('mails.send')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
