import { Alert, Anchor, Button, PasswordInput, Stack } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../api/client';
import { useErrorMessage } from '../components/States';
import { AuthFrame } from './SignInPage';

export default function ResetPasswordPage() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const errorMessage = useErrorMessage();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (password !== confirm) return setError(t('auth.mismatch'));
    setError(null);
    try {
      await api.post('/api/auth/password-reset/confirm', { token, password }, { noAuthRedirect: true });
      setDone(true);
    } catch (err) {
      setError(errorMessage(err));
    }
  }
  return (
    <AuthFrame title={t('auth.resetTitle')}>
      {!token && <Alert color="red" role="alert">{t('auth.noToken')}</Alert>}
      {done ? (
        <Alert color="green" role="status">
          {t('auth.resetDone')} <Anchor component={Link} to="/sign-in">{t('auth.signIn')}</Anchor>
        </Alert>
      ) : (
        <form onSubmit={submit}>
          <Stack>
            <PasswordInput label={t('auth.newPassword')} autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} description={t('auth.passwordRule')} />
            <PasswordInput label={t('auth.confirmPassword')} autoComplete="new-password" required value={confirm} onChange={(e) => setConfirm(e.currentTarget.value)} />
            {error && <Alert color="red" role="alert">{error}</Alert>}
            <Button type="submit" disabled={!token}>{t('auth.savePassword')}</Button>
          </Stack>
        </form>
      )}
    </AuthFrame>
  );
}
