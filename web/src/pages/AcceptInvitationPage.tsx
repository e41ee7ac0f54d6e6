import { Alert, Anchor, Button, PasswordInput, Stack, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../api/client';
import { useErrorMessage } from '../components/States';
import { AuthFrame } from './SignInPage';

export default function AcceptInvitationPage() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const errorMessage = useErrorMessage();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [joined, setJoined] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      const r = await api.post<{ email: string }>('/api/invitations/accept', { token, password, ...(name ? { name } : {}) }, { noAuthRedirect: true });
      setJoined(r.email);
    } catch (err) {
      setError(errorMessage(err));
    }
  }
  return (
    <AuthFrame title={t('auth.invitationTitle')}>
      {!token && <Alert color="red" role="alert">{t('auth.noToken')}</Alert>}
      {joined ? (
        <Alert color="green" role="status">
          {t('auth.joined', { email: joined })} <Anchor component={Link} to="/sign-in">{t('auth.signIn')}</Anchor>
        </Alert>
      ) : (
        <form onSubmit={submit}>
          <Stack>
            <TextInput label={t('auth.yourName')} autoComplete="name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
            <PasswordInput label={t('auth.newPassword')} autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} description={t('auth.passwordRule')} />
            {error && <Alert color="red" role="alert">{error}</Alert>}
            <Button type="submit" disabled={!token}>{t('auth.join')}</Button>
          </Stack>
        </form>
      )}
    </AuthFrame>
  );
}
