// The documents of a client's file, or of one meeting: upload with progress (drag and drop or
// the picker), the list with download, rename (a stale rename is a conflict: reload or keep
// mine), versions (history, download of any, a new version) and delete (admins).
import { Alert, Anchor, Badge, Button, Card, Group, Modal, Progress, Stack, Table, Text, TextInput, Title, Tooltip } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, isApiError, type Page } from '../../api/client';
import { hasRole, useSession } from '../../api/session';
import { formatBytes, formatDateTime } from '../../lib/format';
import { uploadForm } from '../../lib/formUpload';
import { notify } from '../../lib/notify';
import { QueryState } from '../QueryState';
import { EmptyState, pickLanguage, useErrorMessage } from '../States';
import { kindOf, type Doc, type DocVersion } from './types';

export const DOCUMENTS_KEY = ['documents'] as const;

interface Sending {
  name: string;
  sent: number;
  total: number;
}

// Picker + drop zone + progress of one file at a time; `url` receives the multipart POST.
function FileDrop({ url, label, onDone }: { url: string; label: string; onDone: (d: Doc) => void }) {
  const { t, i18n } = useTranslation();
  const errorMessage = useErrorMessage();
  const input = useRef<HTMLInputElement>(null);
  const [sending, setSending] = useState<Sending | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [over, setOver] = useState(false);

  async function send(file: File) {
    setError(null);
    setSending({ name: file.name, sent: 0, total: file.size });
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const doc = await uploadForm<Doc>(url, form, { onProgress: (sent, total) => setSending({ name: file.name, sent, total }) });
      onDone(doc);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setSending(null);
      if (input.current) input.current.value = '';
    }
  }
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const f = e.dataTransfer.files[0];
    if (f && !sending) void send(f);
  };
  const pct = sending && sending.total ? Math.round((100 * sending.sent) / sending.total) : 0;
  return (
    <Stack gap={6}>
      <Card
        withBorder
        padding="sm"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        style={{ borderStyle: 'dashed', background: over ? 'var(--mantine-color-indigo-0)' : undefined }}
        data-testid="document-drop"
      >
        <Group justify="space-between" wrap="wrap">
          <Text size="sm">{t('documents.dropHint')}</Text>
          <Button size="xs" variant="default" onClick={() => input.current?.click()} disabled={!!sending}>
            {label}
          </Button>
          <input
            ref={input}
            type="file"
            hidden
            aria-label={label}
            data-testid="document-file"
            onChange={(e) => {
              const f = e.currentTarget.files?.[0];
              if (f) void send(f);
            }}
          />
        </Group>
      </Card>
      {sending && (
        <Stack gap={2} data-testid="document-progress">
          <Progress value={pct} aria-label={t('documents.uploading', { name: sending.name })} />
          <Text size="xs" aria-live="polite">
            {t('documents.uploading', { name: sending.name })} — {formatBytes(sending.sent, i18n.language)} / {formatBytes(sending.total, i18n.language)} ({pct} %)
          </Text>
        </Stack>
      )}
      {error && (
        <Text c="red.8" size="sm" role="alert">
          {error}
        </Text>
      )}
    </Stack>
  );
}

function TextState({ doc }: { doc: Doc }) {
  const { t, i18n } = useTranslation();
  if (doc.text.state === 'searchable') return <Badge color="green" variant="light" c="green.9">{t('documents.searchable')}</Badge>;
  if (doc.text.state === 'pending') return <Badge color="gray" variant="light" c="dark.6">{t('documents.indexing')}</Badge>;
  return (
    <Tooltip label={pickLanguage(doc.text.error?.message ?? '', i18n.language) || t('documents.notSearchable')} multiline w={260}>
      <Badge color="orange" variant="light" c="orange.9" tabIndex={0}>
        {t('documents.notSearchable')}
      </Badge>
    </Tooltip>
  );
}

// Rename with the version it was read at: a stale one is 409, then reload theirs or keep mine.
function RenameModal({ doc, onClose }: { doc: Doc; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const [name, setName] = useState(doc.name);
  const [base, setBase] = useState(doc);
  const [conflict, setConflict] = useState<Doc | null>(null);
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (version: number) => api.patch<Doc>(`/api/documents/${doc.id}`, { name: name.trim(), version }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: DOCUMENTS_KEY });
      void qc.invalidateQueries({ queryKey: ['timeline'] });
      notify({ color: 'green', message: t('documents.renamed') });
      onClose();
    },
    onError: async (e) => {
      if (isApiError(e) && e.status === 409) {
        setConflict(await api.get<Doc>(`/api/documents/${doc.id}`));
        return;
      }
      setError(errorMessage(e));
    },
  });
  return (
    <Modal opened onClose={onClose} title={t('documents.rename')} closeButtonProps={{ 'aria-label': t('common.close') }}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setError(null);
          if (name.trim()) save.mutate(base.version);
        }}
      >
        <Stack>
          <TextInput label={t('documents.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} required data-autofocus maxLength={255} />
          {conflict && (
            <Alert color="orange" title={t('documents.conflictTitle')} role="alert" data-testid="document-conflict">
              <Stack gap="xs">
                <Text size="sm">{t('documents.conflictText', { name: conflict.name, date: formatDateTime(conflict.updated_at, i18n.language) })}</Text>
                <Group gap="xs">
                  <Button
                    size="xs"
                    variant="default"
                    onClick={() => {
                      setName(conflict.name);
                      setBase(conflict);
                      setConflict(null);
                    }}
                  >
                    {t('documents.loadTheirs')}
                  </Button>
                  <Button
                    size="xs"
                    onClick={() => {
                      setBase(conflict);
                      setConflict(null);
                      save.mutate(conflict.version);
                    }}
                  >
                    {t('documents.keepMine')}
                  </Button>
                </Group>
              </Stack>
            </Alert>
          )}
          {error && (
            <Text c="red.8" size="sm" role="alert">
              {error}
            </Text>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={save.isPending} disabled={!name.trim() || !!conflict}>
              {t('common.save')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function VersionsModal({ doc, onClose }: { doc: Doc; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const versions = useQuery({
    queryKey: [...DOCUMENTS_KEY, doc.id, 'versions'],
    queryFn: () => api.get<Page<DocVersion>>(`/api/documents/${doc.id}/versions`),
  });
  const lang = i18n.language;
  return (
    <Modal opened onClose={onClose} title={t('documents.versionsOf', { name: doc.name })} size="lg" closeButtonProps={{ 'aria-label': t('common.close') }}>
      <Stack>
        <QueryState query={versions}>
          {(data) => (
            <Table aria-label={t('documents.versions')}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('documents.version')}</Table.Th>
                  <Table.Th>{t('documents.file')}</Table.Th>
                  <Table.Th>{t('documents.size')}</Table.Th>
                  <Table.Th>{t('documents.added')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.data.map((v) => (
                  <Table.Tr key={v.number} data-testid="document-version">
                    <Table.Td>{v.number}</Table.Td>
                    <Table.Td>
                      <Anchor href={`/api/documents/${doc.id}/versions/${v.number}/download`} download size="sm">
                        {v.original_name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{formatBytes(v.size_bytes, lang)}</Table.Td>
                    <Table.Td>{formatDateTime(v.created_at, lang)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </QueryState>
        <Title order={3} size="h5">
          {t('documents.newVersion')}
        </Title>
        <FileDrop
          url={`/api/documents/${doc.id}/versions`}
          label={t('documents.chooseVersion')}
          onDone={() => {
            notify({ color: 'green', message: t('documents.versionAdded') });
            void qc.invalidateQueries({ queryKey: DOCUMENTS_KEY });
          }}
        />
      </Stack>
    </Modal>
  );
}

function DeleteModal({ doc, onClose }: { doc: Doc; onClose: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const [error, setError] = useState<string | null>(null);
  const del = useMutation({
    mutationFn: () => api.del(`/api/documents/${doc.id}`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: DOCUMENTS_KEY });
      void qc.invalidateQueries({ queryKey: ['timeline'] });
      notify({ color: 'green', message: t('documents.deleted') });
      onClose();
    },
    onError: (e) => setError(errorMessage(e)),
  });
  return (
    <Modal opened onClose={onClose} title={t('documents.delete')} closeButtonProps={{ 'aria-label': t('common.close') }}>
      <Stack>
        <Text size="sm">{t('documents.deleteConfirm', { name: doc.name, count: doc.current_version })}</Text>
        {error && (
          <Text c="red.8" size="sm" role="alert">
            {error}
          </Text>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            {t('common.cancel')}
          </Button>
          <Button color="red" onClick={() => del.mutate()} loading={del.isPending}>
            {t('documents.deleteFor')}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

export function DocumentsSection({ clientId, meetingId }: { clientId: string; meetingId?: string }) {
  const { t, i18n } = useTranslation();
  const { me } = useSession();
  const qc = useQueryClient();
  const [dialog, setDialog] = useState<{ kind: 'rename' | 'versions' | 'delete'; doc: Doc } | null>(null);
  const base = meetingId ? `/api/meetings/${meetingId}/documents` : `/api/clients/${clientId}/documents`;
  const list = useQuery({
    queryKey: [...DOCUMENTS_KEY, meetingId ? { meetingId } : { clientId }],
    queryFn: () => api.get<Page<Doc>>(base, { query: { limit: 200 } }),
    // Text extraction runs as a job: look again while a document is still being read.
    refetchInterval: (q) => (q.state.data?.data.some((d) => d.text.state === 'pending') ? 3000 : false),
  });
  const lang = i18n.language;
  const admin = hasRole(me, 'admin');
  return (
    <Stack data-testid="documents">
      <Title order={2} size="h3">
        {t('documents.title')}
      </Title>
      <QueryState query={list} empty={<EmptyState title={t('documents.empty')} hint={t('documents.emptyHint')} />}>
        {(data) => (
          <Table.ScrollContainer minWidth={620}>
            <Table aria-label={t('documents.title')}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('documents.name')}</Table.Th>
                  <Table.Th>{t('documents.type')}</Table.Th>
                  <Table.Th>{t('documents.size')}</Table.Th>
                  <Table.Th>{t('documents.search')}</Table.Th>
                  <Table.Th>{t('common.actions')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.data.map((d) => (
                  <Table.Tr key={d.id} data-testid="document-row">
                    <Table.Td>
                      <Stack gap={0}>
                        <Anchor href={d.download_url} download size="sm" fw={500} data-testid="document-name">
                          {d.name}
                        </Anchor>
                        <Text size="xs" c="dimmed">
                          {formatDateTime(d.updated_at, lang)}
                          {d.current_version > 1 ? ` · ${t('documents.versionN', { n: d.current_version })}` : ''}
                        </Text>
                      </Stack>
                    </Table.Td>
                    <Table.Td>{kindOf(d.content_type)}</Table.Td>
                    <Table.Td>{formatBytes(d.size_bytes, lang)}</Table.Td>
                    <Table.Td>
                      <TextState doc={d} />
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Button size="compact-xs" variant="default" onClick={() => setDialog({ kind: 'rename', doc: d })} aria-label={`${t('documents.rename')} ${d.name}`}>
                          {t('documents.rename')}
                        </Button>
                        <Button size="compact-xs" variant="default" onClick={() => setDialog({ kind: 'versions', doc: d })} aria-label={`${t('documents.versions')} ${d.name}`}>
                          {t('documents.versions')}
                        </Button>
                        {admin && (
                          <Button size="compact-xs" variant="default" color="red" c="red.9" onClick={() => setDialog({ kind: 'delete', doc: d })} aria-label={`${t('documents.delete')} ${d.name}`}>
                            {t('documents.delete')}
                          </Button>
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <FileDrop
        url={base}
        label={t('documents.add')}
        onDone={(doc) => {
          notify({ color: 'green', message: t('documents.uploaded', { name: doc.name }) });
          void qc.invalidateQueries({ queryKey: DOCUMENTS_KEY });
          void qc.invalidateQueries({ queryKey: ['timeline'] });
        }}
      />
      {dialog?.kind === 'rename' && <RenameModal doc={dialog.doc} onClose={() => setDialog(null)} />}
      {dialog?.kind === 'versions' && <VersionsModal doc={dialog.doc} onClose={() => setDialog(null)} />}
      {dialog?.kind === 'delete' && <DeleteModal doc={dialog.doc} onClose={() => setDialog(null)} />}
    </Stack>
  );
}
