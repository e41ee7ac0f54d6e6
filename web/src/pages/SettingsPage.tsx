// Firm settings: profile (language, time zone, transcription vocabulary), users and roles,
// invitations, API keys (shown once) and voiceprints.
import { Alert, Button, Code, CopyButton, Group, Select, Stack, Switch, Table, Tabs, TagsInput, Text, TextInput, Title } from '@mantine/core';
import { notify } from '../lib/notify';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router-dom';
import { api, isApiError, type Page } from '../api/client';
import { useUsers } from '../api/hooks';
import { hasRole, useSession } from '../api/session';
import { EmptyState, ErrorState, PageLoader, useErrorMessage } from '../components/States';
import { formatDateTime, formatNumber } from '../lib/format';

interface Firm {
  id: string;
  name: string;
  siret: string | null;
  address: string | null;
  settings: { language?: string; timezone?: string; vocabulary?: string[] | string };
  version: number;
}

const TIME_ZONES = ['Europe/Paris', 'Europe/Brussels', 'Europe/Luxembourg', 'Europe/Zurich', 'Europe/Monaco', 'America/Martinique', 'America/Guadeloupe', 'Indian/Reunion', 'Pacific/Noumea', 'Pacific/Tahiti', 'America/Cayenne', 'Indian/Mayotte', 'UTC'];

function FirmProfile() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const firm = useQuery({ queryKey: ['firm'], queryFn: () => api.get<Firm>('/api/firm') });
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [siret, setSiret] = useState('');
  const [language, setLanguage] = useState('fr');
  const [timezone, setTimezone] = useState('Europe/Paris');
  const [vocabulary, setVocabulary] = useState<string[]>([]);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!firm.data) return;
    const f = firm.data;
    setName(f.name);
    setAddress(f.address ?? '');
    setSiret(f.siret ?? '');
    setLanguage(f.settings.language ?? 'fr');
    setTimezone(f.settings.timezone ?? 'Europe/Paris');
    const v = f.settings.vocabulary;
    setVocabulary(Array.isArray(v) ? v : typeof v === 'string' && v ? v.split(',').map((s) => s.trim()) : []);
  }, [firm.data]);
  const save = useMutation({
    mutationFn: () =>
      api.patch<Firm>(
        '/api/firm',
        { name, address: address || null, siret: siret || null, settings: { language, timezone, vocabulary } },
        { headers: { 'If-Match': `"${firm.data!.version}"` } },
      ),
    onSuccess: (f) => {
      qc.setQueryData(['firm'], f);
      setError(null);
      setFieldErrors({});
      notify({ color: 'green', message: t('common.saved') });
    },
    onError: (e) => {
      if (isApiError(e) && e.status === 422) setFieldErrors(e.fieldErrors());
      setError(isApiError(e) && e.status === 409 ? t('conflict.firm') : errorMessage(e));
    },
  });
  if (firm.isPending) return <PageLoader />;
  if (firm.isError) return <ErrorState error={firm.error} onRetry={() => void firm.refetch()} />;
  const fe = (k: string) => (fieldErrors[k] ? t(`validation.${fieldErrors[k]}`, { defaultValue: fieldErrors[k] }) : undefined);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Stack maw={640}>
        <TextInput label={t('settings.firmName')} value={name} onChange={(e) => setName(e.currentTarget.value)} required error={fe('name')} />
        <TextInput label={t('settings.siret')} value={siret} onChange={(e) => setSiret(e.currentTarget.value)} error={fe('siret')} />
        <TextInput label={t('settings.address')} value={address} onChange={(e) => setAddress(e.currentTarget.value)} error={fe('address')} />
        <Group grow>
          <Select
            label={t('settings.language')}
            value={language}
            onChange={(v) => setLanguage(v ?? 'fr')}
            data={[
              { value: 'fr', label: 'Français' },
              { value: 'en', label: 'English' },
            ]}
            allowDeselect={false}
          />
          <Select label={t('settings.timezone')} value={timezone} onChange={(v) => setTimezone(v ?? 'Europe/Paris')} data={TIME_ZONES} searchable allowDeselect={false} />
        </Group>
        <TagsInput label={t('settings.vocabulary')} description={t('settings.vocabularyHint')} value={vocabulary} onChange={setVocabulary} error={fe('settings')} />
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={save.isPending}>
            {t('common.save')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function Users() {
  const { t, i18n } = useTranslation();
  const { me } = useSession();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const users = useUsers();
  const update = useMutation({
    mutationFn: ({ id, body }: { id: string; body: Record<string, unknown> }) => api.patch(`/api/users/${id}`, body),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['users'] }),
    onError: (e) => notify({ color: 'red', title: t('errors.title'), message: errorMessage(e) }),
  });
  if (users.isPending) return <PageLoader />;
  if (users.isError) return <ErrorState error={users.error} onRetry={() => void users.refetch()} />;
  const roles = ['member', 'admin', 'owner'].map((r) => ({ value: r, label: t(`roles.${r}`) }));
  return (
    <Table.ScrollContainer minWidth={600}>
      <Table aria-label={t('settings.users')}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('clients.name')}</Table.Th>
            <Table.Th>{t('auth.email')}</Table.Th>
            <Table.Th>{t('settings.role')}</Table.Th>
            <Table.Th>{t('settings.active')}</Table.Th>
            <Table.Th>{t('settings.since')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {users.data.data.map((u) => {
            const self = u.id === me?.user_id;
            return (
              <Table.Tr key={u.id}>
                <Table.Td>{u.name}</Table.Td>
                <Table.Td>{u.email}</Table.Td>
                <Table.Td>
                  <Select
                    aria-label={t('settings.roleOf', { name: u.name || u.email })}
                    size="xs"
                    value={u.role}
                    data={roles}
                    allowDeselect={false}
                    disabled={self}
                    onChange={(v) => v && v !== u.role && update.mutate({ id: u.id, body: { role: v } })}
                    w={160}
                  />
                </Table.Td>
                <Table.Td>
                  <Switch
                    aria-label={t('settings.activeOf', { name: u.name || u.email })}
                    checked={!u.disabled}
                    disabled={self}
                    onChange={(e) => update.mutate({ id: u.id, body: { disabled: !e.currentTarget.checked } })}
                  />
                </Table.Td>
                <Table.Td>{formatDateTime(u.created_at, i18n.language)}</Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function Invitations() {
  const { t } = useTranslation();
  const { me } = useSession();
  const errorMessage = useErrorMessage();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState('member');
  const [link, setLink] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const invite = useMutation({
    mutationFn: () => api.post<{ invitation_link: string }>('/api/invitations', { email, role, ...(name ? { name } : {}) }),
    onSuccess: (r) => {
      setLink(r.invitation_link);
      setError(null);
      setEmail('');
      setName('');
    },
    onError: (e) => setError(errorMessage(e)),
  });
  const roles = ['member', 'admin', ...(hasRole(me, 'owner') ? ['owner'] : [])].map((r) => ({ value: r, label: t(`roles.${r}`) }));
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        invite.mutate();
      }}
    >
      <Stack maw={640}>
        <Text size="sm">{t('settings.inviteHint')}</Text>
        <Group grow align="flex-start">
          <TextInput label={t('auth.email')} type="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          <TextInput label={t('clients.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <Select label={t('settings.role')} value={role} onChange={(v) => setRole(v ?? 'member')} data={roles} allowDeselect={false} />
        </Group>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        {link && (
          <Alert color="green" title={t('settings.invited')}>
            <Group gap="xs" wrap="nowrap">
              <Code style={{ wordBreak: 'break-all' }}>{link}</Code>
              <CopyButton value={link}>{({ copied, copy }) => <Button size="xs" onClick={copy}>{copied ? t('common.copied') : t('common.copy')}</Button>}</CopyButton>
            </Group>
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={invite.isPending} disabled={!email}>
            {t('settings.invite')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

interface ApiKey {
  id: string;
  name: string;
  role: string;
  prefix?: string;
  created_at: string;
  last_used_at?: string | null;
}

function ApiKeys() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const [name, setName] = useState('');
  const [role, setRole] = useState('member');
  const [shown, setShown] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => api.get<Page<ApiKey>>('/api/api-keys') });
  const create = useMutation({
    mutationFn: () => api.post<ApiKey & { key: string }>('/api/api-keys', { name, role }),
    onSuccess: (k) => {
      setShown(k.key);
      setName('');
      setError(null);
      void qc.invalidateQueries({ queryKey: ['api-keys'] });
    },
    onError: (e) => setError(errorMessage(e)),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api.del(`/api/api-keys/${id}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['api-keys'] }),
    onError: (e) => setError(errorMessage(e)),
  });
  return (
    <Stack>
      {shown && (
        <Alert color="yellow" title={t('settings.keyOnce')} data-testid="new-api-key">
          <Group gap="xs" wrap="nowrap">
            <Code style={{ wordBreak: 'break-all' }}>{shown}</Code>
            <CopyButton value={shown}>{({ copied, copy }) => <Button size="xs" onClick={copy}>{copied ? t('common.copied') : t('common.copy')}</Button>}</CopyButton>
          </Group>
        </Alert>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) create.mutate();
        }}
      >
        <Group align="flex-end" wrap="wrap">
          <TextInput label={t('settings.keyName')} value={name} onChange={(e) => setName(e.currentTarget.value)} required />
          <Select
            label={t('settings.role')}
            value={role}
            onChange={(v) => setRole(v ?? 'member')}
            data={['member', 'admin'].map((r) => ({ value: r, label: t(`roles.${r}`) }))}
            allowDeselect={false}
            w={160}
          />
          <Button type="submit" loading={create.isPending} disabled={!name.trim()}>
            {t('settings.createKey')}
          </Button>
        </Group>
      </form>
      {error && (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      )}
      {keys.isPending ? (
        <PageLoader />
      ) : keys.isError ? (
        <ErrorState error={keys.error} onRetry={() => void keys.refetch()} />
      ) : keys.data.data.length === 0 ? (
        <EmptyState title={t('settings.noKeys')} hint={t('settings.noKeysHint')} />
      ) : (
        <Table aria-label={t('settings.apiKeys')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('settings.keyName')}</Table.Th>
              <Table.Th>{t('settings.role')}</Table.Th>
              <Table.Th>{t('settings.since')}</Table.Th>
              <Table.Th>{t('settings.lastUsed')}</Table.Th>
              <Table.Th>{t('common.actions')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {keys.data.data.map((k) => (
              <Table.Tr key={k.id}>
                <Table.Td>{k.name}</Table.Td>
                <Table.Td>{t(`roles.${k.role}`, { defaultValue: k.role })}</Table.Td>
                <Table.Td>{formatDateTime(k.created_at, i18n.language)}</Table.Td>
                <Table.Td>{k.last_used_at ? formatDateTime(k.last_used_at, i18n.language) : t('common.none')}</Table.Td>
                <Table.Td>
                  <Button size="xs" color="red" variant="light" c="red.9" onClick={() => revoke.mutate(k.id)}>
                    {t('settings.revoke')}
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

interface Voiceprint {
  id: string;
  name: string;
  seconds_of_speech: number;
  source_count: number;
  updated_at: string;
}

function Voiceprints() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const list = useQuery({ queryKey: ['voiceprints'], queryFn: () => api.get<Page<Voiceprint>>('/api/voiceprints') });
  const remove = useMutation({
    mutationFn: (id: string) => api.del(`/api/voiceprints/${id}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['voiceprints'] }),
    onError: (e) => notify({ color: 'red', title: t('errors.title'), message: errorMessage(e) }),
  });
  if (list.isPending) return <PageLoader />;
  if (list.isError) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;
  if (list.data.data.length === 0) return <EmptyState title={t('settings.noVoiceprints')} hint={t('settings.noVoiceprintsHint')} />;
  return (
    <Table aria-label={t('settings.voiceprints')}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>{t('clients.name')}</Table.Th>
          <Table.Th>{t('settings.speech')}</Table.Th>
          <Table.Th>{t('settings.sources')}</Table.Th>
          <Table.Th>{t('clients.updated')}</Table.Th>
          <Table.Th>{t('common.actions')}</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {list.data.data.map((v) => (
          <Table.Tr key={v.id}>
            <Table.Td>{v.name}</Table.Td>
            <Table.Td>{formatNumber(v.seconds_of_speech, i18n.language, 0)} s</Table.Td>
            <Table.Td>{v.source_count}</Table.Td>
            <Table.Td>{formatDateTime(v.updated_at, i18n.language)}</Table.Td>
            <Table.Td>
              <Button size="xs" color="red" variant="light" c="red.9" onClick={() => remove.mutate(v.id)}>
                {t('common.delete')}
              </Button>
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

const SECTIONS = ['firm', 'users', 'invitations', 'api-keys', 'voiceprints'] as const;

export default function SettingsPage() {
  const { t } = useTranslation();
  const { section = 'firm' } = useParams();
  const navigate = useNavigate();
  const current = (SECTIONS as readonly string[]).includes(section) ? section : 'firm';
  return (
    <Stack>
      <Title order={1}>{t('settings.title')}</Title>
      <Tabs value={current} onChange={(v) => v && navigate(`/settings/${v}`)} keepMounted={false}>
        <Tabs.List>
          {SECTIONS.map((s) => (
            <Tabs.Tab key={s} value={s}>
              {t(`settings.section_${s.replace('-', '_')}`)}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value="firm" pt="md"><FirmProfile /></Tabs.Panel>
        <Tabs.Panel value="users" pt="md"><Users /></Tabs.Panel>
        <Tabs.Panel value="invitations" pt="md"><Invitations /></Tabs.Panel>
        <Tabs.Panel value="api-keys" pt="md"><ApiKeys /></Tabs.Panel>
        <Tabs.Panel value="voiceprints" pt="md"><Voiceprints /></Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
