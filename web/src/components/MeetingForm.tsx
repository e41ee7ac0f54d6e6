// Plan or edit a meeting: title, date and time (entered in the firm's time zone, stored UTC),
// duration, place, participants (users of the firm and named guests), notes.
import { Alert, Button, Group, MultiSelect, NumberInput, Stack, TagsInput, Textarea, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, isApiError } from '../api/client';
import { useUsers, type Meeting, type Participant } from '../api/hooks';
import { useErrorMessage } from './States';

// "2026-03-01T09:30" typed in the browser's local time → ISO UTC; and back.
export function localToIso(local: string): string {
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
export function isoToLocal(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function MeetingForm({ clientId, meeting, onSaved, onCancel }: { clientId: string; meeting?: Meeting; onSaved: (m: Meeting) => void; onCancel: () => void }) {
  const { t } = useTranslation();
  const users = useUsers();
  const errorMessage = useErrorMessage();
  const [title, setTitle] = useState(meeting?.title ?? '');
  const [startsAt, setStartsAt] = useState(isoToLocal(meeting?.starts_at));
  const [duration, setDuration] = useState<number | string>(meeting?.duration_minutes ?? 60);
  const [location, setLocation] = useState(meeting?.location ?? '');
  const [notes, setNotes] = useState(meeting?.notes ?? '');
  const [userIds, setUserIds] = useState<string[]>((meeting?.participants ?? []).filter((p) => p.user_id).map((p) => p.user_id!));
  const [guests, setGuests] = useState<string[]>((meeting?.participants ?? []).filter((p) => !p.user_id && p.name).map((p) => p.name!));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    setFieldErrors({});
    const participants: Participant[] = [...userIds.map((id) => ({ user_id: id })), ...guests.map((name) => ({ name }))];
    const body: Record<string, unknown> = {
      title: title.trim(),
      starts_at: localToIso(startsAt),
      duration_minutes: duration === '' ? null : Number(duration),
      location: location.trim() || null,
      notes: notes.trim() || null,
      participants,
    };
    if (!meeting) body.client_id = clientId;
    setBusy(true);
    try {
      const saved = meeting
        ? await api.patch<Meeting>(`/api/meetings/${meeting.id}`, body, { headers: { 'If-Match': `"${meeting.version}"` } })
        : await api.post<Meeting>('/api/meetings', body);
      onSaved(saved);
    } catch (err) {
      if (isApiError(err) && err.status === 422) setFieldErrors(err.fieldErrors());
      setError(isApiError(err) && err.status === 409 ? t('conflict.text') : errorMessage(err));
    } finally {
      setBusy(false);
    }
  }
  const fe = (k: string) => (fieldErrors[k] ? t(`validation.${fieldErrors[k]}`, { defaultValue: fieldErrors[k] }) : undefined);
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <TextInput label={t('meetings.titleField')} required value={title} onChange={(e) => setTitle(e.currentTarget.value)} error={fe('title')} data-autofocus />
        <Group grow align="flex-start">
          <TextInput label={t('meetings.startsAt')} type="datetime-local" required value={startsAt} onChange={(e) => setStartsAt(e.currentTarget.value)} error={fe('starts_at')} />
          <NumberInput label={t('meetings.duration')} min={0} max={1440} value={duration} onChange={setDuration} error={fe('duration_minutes')} />
        </Group>
        <TextInput label={t('meetings.location')} value={location} onChange={(e) => setLocation(e.currentTarget.value)} error={fe('location')} />
        <MultiSelect
          label={t('meetings.users')}
          data={(users.data?.data ?? []).map((u) => ({ value: u.id, label: u.name || u.email }))}
          value={userIds}
          onChange={setUserIds}
          searchable
        />
        <TagsInput label={t('meetings.guests')} description={t('meetings.guestsHint')} value={guests} onChange={setGuests} error={fe('participants')} />
        <Textarea label={t('meetings.notes')} autosize minRows={3} value={notes} onChange={(e) => setNotes(e.currentTarget.value)} error={fe('notes')} />
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" loading={busy}>
            {meeting ? t('common.save') : t('common.create')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
