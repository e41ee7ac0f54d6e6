// Sending the report by mail, beside its exports: possible once the report is reviewed (the
// button says why not before), through the dialog that writes the mail with the PDF attached.
import { Button, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { SendReportDialog } from '../mails/SendReportDialog';
import type { Report } from './types';

export function ReportSendSlot({ report, disabled }: { report: Report; disabled?: boolean }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const reviewed = report.status === 'reviewed';
  const hintId = `send-hint-${report.id}`;
  return (
    <Stack gap={4} align="flex-start" maw={320}>
      <Button size="xs" onClick={() => setOpen(true)} disabled={!reviewed || disabled} aria-describedby={reviewed ? undefined : hintId} data-testid="send-report">
        {t('mails.sendButton')}
      </Button>
      {!reviewed && (
        <Text size="xs" c="dimmed" id={hintId}>
          {t('mails.reviewFirst')}
        </Text>
      )}
      {reviewed && <SendReportDialog report={report} opened={open} onClose={() => setOpen(false)} />}
    </Stack>
  );
}
