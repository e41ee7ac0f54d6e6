import { Alert, Anchor, Button, Stack, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api/client';
import { useErrorMessage } from '../components/States';
import { AuthFrame } from './SignInPage';

export default function ForgotPasswordPage() {
  const { t } = useTranslation();
  const errorMessage = useErrorMessage();
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const r = await api.post<{ message: string }>('/api/auth/password-reset', { email }, { noAuthRedirect: true });
      setSent(r.message || t('auth.resetSent'));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <AuthFrame title={t('auth.forgotTitle')}>
      <form onSubmit={submit}>
        <Stack>
          <TextInput label={t('auth.email')} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          {sent && <Alert color="green" role="status">{sent}</Alert>}
          {error && <Alert color="red" role="alert">{error}</Alert>}
          <Button type="submit" loading={busy}>{t('auth.sendLink')}</Button>
          <Anchor component={Link} to="/sign-in" size="sm">{t('auth.backToSignIn')}</Anchor>
        </Stack>
      </form>
    </AuthFrame>
  );
}
