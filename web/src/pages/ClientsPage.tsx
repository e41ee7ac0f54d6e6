// The firm's clients: instant accent-insensitive search (?q=), filters, sort, cursor pages.
// The search and filters live in the URL, so a reload or a shared link shows the same list.
import { Anchor, Badge, Button, Group, Modal, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { api, type Page } from '../api/client';
import { useUsers, userName, type Client } from '../api/hooks';
import { ClientForm } from '../components/ClientForm';
import { LoadMore, QueryState } from '../components/QueryState';
import { EmptyState } from '../components/States';
import { useDebounced } from '../lib/useDebounced';

const SORTS = ['name', '-updated_at', '-created_at', 'reference'];

export default function ClientsPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const users = useUsers();
  const [creating, setCreating] = useState(false);
  const [q, setQ] = useState(params.get('q') ?? '');
  const query = useDebounced(q.trim(), 200);
  const tag = params.get('tag') ?? '';
  const owner = params.get('owner') ?? '';
  const sort = params.get('sort') ?? 'name';

  function setParam(k: string, v: string | null) {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  }

  const list = useInfiniteQuery({
    queryKey: ['clients', { query, tag, owner, sort }],
    initialPageParam: '',
    queryFn: ({ pageParam, signal }) =>
      api.get<Page<Client>>('/api/clients', {
        query: { q: query, tags: tag, owner_user_id: owner, sort, limit: 50, cursor: pageParam },
        signal,
      }),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    placeholderData: (prev) => prev,
  });
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>{t('clients.title')}</Title>
        <Button onClick={() => setCreating(true)}>{t('clients.new')}</Button>
      </Group>
      <Group align="flex-end" wrap="wrap">
        <TextInput
          type="search"
          label={t('clients.search')}
          placeholder={t('clients.searchHint')}
          value={q}
          onChange={(e) => {
            setQ(e.currentTarget.value);
            setParam('q', e.currentTarget.value.trim() || null);
          }}
          style={{ flex: '1 1 260px' }}
        />
        <TextInput label={t('clients.tag')} value={tag} onChange={(e) => setParam('tag', e.currentTarget.value || null)} w={160} />
        <Select
          label={t('clients.owner')}
          value={owner || null}
          onChange={(v) => setParam('owner', v)}
          data={(users.data?.data ?? []).map((u) => ({ value: u.id, label: u.name || u.email }))}
          clearable
          w={200}
        />
        <Select
          label={t('clients.sort')}
          value={sort}
          onChange={(v) => setParam('sort', v === 'name' ? null : v)}
          data={SORTS.map((s) => ({ value: s, label: t(`clients.sort_${s.replace('-', 'desc_')}`) }))}
          allowDeselect={false}
          w={190}
        />
      </Group>
      <QueryState
        query={list}
        empty={
          <EmptyState
            title={query || tag || owner ? t('clients.noMatch') : t('clients.empty')}
            hint={query || tag || owner ? t('clients.noMatchHint') : t('clients.emptyHint')}
            action={<Button onClick={() => setCreating(true)}>{t('clients.new')}</Button>}
          />
        }
      >
        {() => (
          <Table.ScrollContainer minWidth={640}>
            <Table striped highlightOnHover aria-label={t('clients.title')} data-testid="clients-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('clients.name')}</Table.Th>
                  <Table.Th>{t('clients.email')}</Table.Th>
                  <Table.Th>{t('clients.phone')}</Table.Th>
                  <Table.Th>{t('clients.reference')}</Table.Th>
                  <Table.Th>{t('clients.tags')}</Table.Th>
                  <Table.Th>{t('clients.owner')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/clients/${c.id}`} fw={500}>
                        {c.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{c.email}</Table.Td>
                    <Table.Td>{c.phone}</Table.Td>
                    <Table.Td>{c.reference}</Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {c.tags.map((tg) => (
                          <Badge key={tg} variant="light" color="gray" c="dark.6" tt="none">
                            {tg}
                          </Badge>
                        ))}
                      </Group>
                    </Table.Td>
                    <Table.Td>{userName(users.data?.data, c.owner_user_id)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <LoadMore query={list} />
      {rows.length > 0 && (
        <Text size="sm" c="dimmed" aria-live="polite">
          {t('clients.shown', { count: rows.length })}
        </Text>
      )}
      <Modal opened={creating} onClose={() => setCreating(false)} title={t('clients.new')} size="lg" closeButtonProps={{ 'aria-label': t('common.close') }}>
        <ClientForm onCancel={() => setCreating(false)} onSaved={(c) => navigate(`/clients/${c.id}`)} />
      </Modal>
    </Stack>
  );
}
