// Exports of a report as DOCX or PDF: each a job whose file joins the client's documents; shown
// with its progress until its download link is there.
import { Anchor, Button, Group, Loader, Stack, Text } from '@mantine/core';
import { useQueries, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { notify } from '../../lib/notify';
import { DOCUMENTS_KEY } from '../documents/DocumentsSection';
import { pickLanguage, useErrorMessage } from '../States';
import type { ReportExport } from './types';

export function ReportExports({ reportId, disabled }: { reportId: string; disabled?: boolean }) {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const [ids, setIds] = useState<string[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const exports = useQueries({
    queries: ids.map((id) => ({
      queryKey: ['exports', id],
      queryFn: async () => {
        const e = await api.get<ReportExport>(`/api/exports/${id}`);
        if (e.status === 'done') void qc.invalidateQueries({ queryKey: DOCUMENTS_KEY });
        return e;
      },
      refetchInterval: (q: { state: { data?: ReportExport } }) => (q.state.data && q.state.data.status !== 'queued' ? false : 1000),
    })),
  });
  async function start(format: 'docx' | 'pdf') {
    setBusy(format);
    try {
      const e = await api.post<ReportExport>(`/api/reports/${reportId}/exports`, { format });
      setIds((prev) => [e.id, ...prev]);
    } catch (e) {
      notify({ color: 'red', title: t('errors.title'), message: errorMessage(e) });
    } finally {
      setBusy(null);
    }
  }
  return (
    <Stack gap="xs" data-testid="report-exports">
      <Group gap="xs">
        <Button size="xs" variant="default" onClick={() => void start('docx')} loading={busy === 'docx'} disabled={disabled}>
          {t('reports.exportDocx')}
        </Button>
        <Button size="xs" variant="default" onClick={() => void start('pdf')} loading={busy === 'pdf'} disabled={disabled}>
          {t('reports.exportPdf')}
        </Button>
      </Group>
      {exports.map((q, i) => {
        const e = q.data;
        return (
          <Group key={ids[i]} gap="xs" data-testid="report-export" data-status={e?.status ?? 'queued'}>
            {!e || e.status === 'queued' ? (
              <>
                <Loader size="xs" aria-hidden />
                <Text size="sm" aria-live="polite">
                  {t('reports.exporting', { format: (e?.format ?? '').toUpperCase() })}
                </Text>
              </>
            ) : e.status === 'done' && e.download_url ? (
              <Anchor href={e.download_url} download size="sm" data-testid="export-download">
                {t('reports.download', { format: e.format.toUpperCase() })}
              </Anchor>
            ) : (
              <Text size="sm" c="red.8" role="alert">
                {pickLanguage(e.error?.message ?? '', i18n.language) || t('reports.exportFailed')}
              </Text>
            )}
          </Group>
        );
      })}
    </Stack>
  );
}
