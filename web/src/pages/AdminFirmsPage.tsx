// Platform administration: every firm of the installation, and creating one.
import { Alert, Button, Card, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { api, isApiError, type Page } from '../api/client';
import { useActingFirm } from '../components/FirmSwitcher';
import { EmptyState, ErrorState, PageLoader, useErrorMessage } from '../components/States';
import { formatDateTime } from '../lib/format';

interface Firm {
  id: string;
  name: string;
  siret: string | null;
  address: string | null;
  settings: Record<string, unknown>;
  created_at: string;
}

export default function AdminFirmsPage() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const [params, setParams] = useSearchParams();
  const selected = params.get('firm');
  const [name, setName] = useState('');
  const [siret, setSiret] = useState('');
  const [address, setAddress] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const { start } = useActingFirm();
  const firms = useQuery({ queryKey: ['admin', 'firms'], queryFn: () => api.get<Page<Firm>>('/api/admin/firms') });
  const create = useMutation({
    mutationFn: () => api.post<Firm>('/api/admin/firms', { name, ...(siret ? { siret } : {}), ...(address ? { address } : {}) }),
    onSuccess: (f) => {
      setName('');
      setSiret('');
      setAddress('');
      setError(null);
      setFieldErrors({});
      void qc.invalidateQueries({ queryKey: ['admin', 'firms'] });
      setParams({ firm: f.id });
    },
    onError: (e) => {
      if (isApiError(e) && e.status === 422) setFieldErrors(e.fieldErrors());
      setError(errorMessage(e));
    },
  });
  const fe = (k: string) => (fieldErrors[k] ? t(`validation.${fieldErrors[k]}`, { defaultValue: fieldErrors[k] }) : undefined);
  const current = firms.data?.data.find((f) => f.id === selected);
  return (
    <Stack>
      <Title order={1}>{t('firms.title')}</Title>
      {current && (
        <Card withBorder data-testid="selected-firm">
          <Title order={2} size="h4">
            {current.name}
          </Title>
          <Text size="sm">SIRET : {current.siret ?? t('common.none')}</Text>
          <Text size="sm">{current.address}</Text>
          <Text size="sm" c="dimmed">
            {t('firms.created', { date: formatDateTime(current.created_at, i18n.language) })}
          </Text>
          <Text size="sm" mt="xs">{t('firms.actHint')}</Text>
          <Group mt="xs">
            <Button onClick={() => start.mutate(current.id)} loading={start.isPending}>
              {t('firms.actInFirm', { name: current.name })}
            </Button>
          </Group>
        </Card>
      )}
      {firms.isPending ? (
        <PageLoader />
      ) : firms.isError ? (
        <ErrorState error={firms.error} onRetry={() => void firms.refetch()} />
      ) : firms.data.data.length === 0 ? (
        <EmptyState title={t('firms.empty')} hint={t('firms.emptyHint')} />
      ) : (
        <Table aria-label={t('firms.title')} highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('clients.name')}</Table.Th>
              <Table.Th>SIRET</Table.Th>
              <Table.Th>{t('settings.address')}</Table.Th>
              <Table.Th>{t('settings.since')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {firms.data.data.map((f) => (
              <Table.Tr key={f.id} aria-selected={f.id === selected}>
                <Table.Td>
                  <Button variant="subtle" size="compact-sm" onClick={() => setParams({ firm: f.id })}>
                    {f.name}
                  </Button>
                </Table.Td>
                <Table.Td>{f.siret}</Table.Td>
                <Table.Td>{f.address}</Table.Td>
                <Table.Td>{formatDateTime(f.created_at, i18n.language)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Card withBorder>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <Stack>
            <Title order={2} size="h4">
              {t('firms.new')}
            </Title>
            <Group grow align="flex-start">
              <TextInput label={t('settings.firmName')} required value={name} onChange={(e) => setName(e.currentTarget.value)} error={fe('name')} />
              <TextInput label={t('settings.siret')} value={siret} onChange={(e) => setSiret(e.currentTarget.value)} error={fe('siret')} />
            </Group>
            <TextInput label={t('settings.address')} value={address} onChange={(e) => setAddress(e.currentTarget.value)} error={fe('address')} />
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <Group>
              <Button type="submit" loading={create.isPending} disabled={!name.trim()}>
                {t('common.create')}
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
    </Stack>
  );
}
