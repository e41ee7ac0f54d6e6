// Create or edit a client. The server's 422 field errors are shown under their fields; a 409
// (someone saved the client meanwhile) offers to load their version or to overwrite it.
import { Alert, Button, Group, Select, Stack, TagsInput, Textarea, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { api, isApiError } from '../api/client';
import { useUsers, type Client } from '../api/hooks';
import { useErrorMessage } from './States';

type Values = {
  kind: string;
  name: string;
  company: string;
  email: string;
  phone: string;
  address: string;
  reference: string;
  notes: string;
  tags: string[];
  owner_user_id: string;
};
const TEXT_FIELDS = ['name', 'company', 'email', 'phone', 'address', 'reference', 'notes'] as const;

function toValues(c?: Client): Values {
  return {
    kind: c?.kind ?? 'person',
    name: c?.name ?? '',
    company: c?.company ?? '',
    email: c?.email ?? '',
    phone: c?.phone ?? '',
    address: c?.address ?? '',
    reference: c?.reference ?? '',
    notes: c?.notes ?? '',
    tags: c?.tags ?? [],
    owner_user_id: c?.owner_user_id ?? '',
  };
}

// Only what changed is sent on an edit; an emptied field is sent as null.
export function clientBody(v: Values, base?: Client): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const before = toValues(base);
  for (const k of TEXT_FIELDS) {
    const val = v[k].trim();
    if (!base || val !== before[k]) out[k] = val === '' ? (k === 'name' ? '' : null) : val;
  }
  if (!base || v.kind !== before.kind) out.kind = v.kind || null;
  if (!base || v.owner_user_id !== before.owner_user_id) if (v.owner_user_id || base) out.owner_user_id = v.owner_user_id || null;
  if (!base || JSON.stringify(v.tags) !== JSON.stringify(before.tags)) out.tags = v.tags;
  return out;
}

export function ClientForm({ client, onSaved, onCancel }: { client?: Client; onSaved: (c: Client) => void; onCancel: () => void }) {
  const { t } = useTranslation();
  const errorMessage = useErrorMessage();
  const users = useUsers();
  const [base, setBase] = useState<Client | undefined>(client);
  const [conflict, setConflict] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const form = useForm<Values>({ defaultValues: toValues(client) });
  const tags = form.watch('tags');
  const kind = form.watch('kind');
  const owner = form.watch('owner_user_id');

  async function save(values: Values, overwrite = false) {
    setError(null);
    try {
      const body = clientBody(values, base);
      const saved = base
        ? await api.patch<Client>(`/api/clients/${base.id}`, body, { headers: overwrite ? {} : { 'If-Match': `"${base.version}"` } })
        : await api.post<Client>('/api/clients', body);
      setConflict(false);
      onSaved(saved);
    } catch (e) {
      if (isApiError(e) && e.status === 409) return setConflict(true);
      if (isApiError(e) && e.status === 422) {
        for (const [field, reason] of Object.entries(e.fieldErrors())) {
          form.setError(field as keyof Values, { message: t(`validation.${reason}`, { defaultValue: reason }) });
        }
      }
      setError(errorMessage(e));
    }
  }

  async function reload() {
    if (!base) return;
    const fresh = await api.get<Client>(`/api/clients/${base.id}`);
    setBase(fresh);
    form.reset(toValues(fresh));
    setConflict(false);
  }

  const err = (k: keyof Values) => form.formState.errors[k]?.message;
  return (
    <form onSubmit={form.handleSubmit((v) => save(v))} noValidate>
      <Stack>
        <Group grow align="flex-start">
          <TextInput label={t('clients.name')} required {...form.register('name', { required: t('validation.required') })} error={err('name')} data-autofocus />
          <Select
            label={t('clients.kind')}
            value={kind}
            onChange={(v) => form.setValue('kind', v ?? 'person', { shouldDirty: true })}
            data={[
              { value: 'person', label: t('clients.person') },
              { value: 'company', label: t('clients.company_kind') },
            ]}
            allowDeselect={false}
            error={err('kind')}
          />
        </Group>
        <Group grow align="flex-start">
          <TextInput label={t('clients.email')} type="email" {...form.register('email')} error={err('email')} />
          <TextInput label={t('clients.phone')} type="tel" {...form.register('phone')} error={err('phone')} />
        </Group>
        <Group grow align="flex-start">
          <TextInput label={t('clients.companyName')} {...form.register('company')} error={err('company')} />
          <TextInput label={t('clients.reference')} {...form.register('reference')} error={err('reference')} />
        </Group>
        <TextInput label={t('clients.address')} {...form.register('address')} error={err('address')} />
        <TagsInput label={t('clients.tags')} description={t('clients.tagsHint')} value={tags} onChange={(v) => form.setValue('tags', v, { shouldDirty: true })} error={err('tags')} />
        <Select
          label={t('clients.owner')}
          value={owner || null}
          onChange={(v) => form.setValue('owner_user_id', v ?? '', { shouldDirty: true })}
          data={(users.data?.data ?? []).map((u) => ({ value: u.id, label: u.name || u.email }))}
          clearable
          error={err('owner_user_id')}
        />
        <Textarea label={t('clients.notes')} autosize minRows={3} {...form.register('notes')} error={err('notes')} />
        {conflict && (
          <Alert color="orange" role="alert" title={t('conflict.title')} data-testid="conflict">
            <Stack gap="xs">
              {t('conflict.text')}
              <Group>
                <Button size="xs" variant="default" onClick={() => void reload()}>
                  {t('conflict.reload')}
                </Button>
                <Button size="xs" color="orange" onClick={form.handleSubmit((v) => save(v, true))}>
                  {t('conflict.overwrite')}
                </Button>
              </Group>
            </Stack>
          </Alert>
        )}
        {error && !conflict && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" loading={form.formState.isSubmitting}>
            {client ? t('common.save') : t('common.create')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
