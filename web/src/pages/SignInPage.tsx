import { Alert, Anchor, Button, Center, Paper, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { zodResolver } from '@hookform/resolvers/zod';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { z } from 'zod';
import { api, setCsrfToken } from '../api/client';
import { ME_KEY, useSession, type Me } from '../api/session';
import { LanguageSwitch } from '../components/Layout';
import { useErrorMessage } from '../components/States';

// Only same-site paths are followed after sign-in (never an absolute URL from the query).
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/sign-in')) return '/clients';
  return next;
}

const schema = z.object({ email: z.string().trim().min(1, 'required').email('invalid_email'), password: z.string().min(1, 'required') });
type Values = z.infer<typeof schema>;

export function AuthFrame({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Center mih="100vh" p="md" component="main" id="main">
      <Paper withBorder shadow="sm" p="xl" w={400} maw="100%">
        <Stack>
          <Stack gap={4} align="flex-end">
            <LanguageSwitch />
          </Stack>
          <Title order={1} size="h2">
            {title}
          </Title>
          {children}
        </Stack>
      </Paper>
    </Center>
  );
}

export default function SignInPage() {
  const { t } = useTranslation();
  const { me } = useSession();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const [serverError, setServerError] = useState<string | null>(null);
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { email: '', password: '' } });
  const next = safeNext(params.get('next'));

  if (me) return <Navigate to={next} replace />;

  const onSubmit = form.handleSubmit(async (values) => {
    setServerError(null);
    try {
      const who = await api.post<Me>('/api/auth/login', values, { noAuthRedirect: true });
      setCsrfToken(who.csrf_token);
      qc.setQueryData(ME_KEY, who);
      navigate(who.role === 'platform_admin' && next === '/clients' ? '/admin/firms' : next, { replace: true });
    } catch (e) {
      setServerError(errorMessage(e));
    }
  });

  const fieldError = (name: keyof Values) => {
    const m = form.formState.errors[name]?.message;
    return m ? t(`validation.${m}`) : undefined;
  };

  return (
    <AuthFrame title={t('auth.signInTitle')}>
      {params.get('expired') && <Alert color="yellow">{t('auth.expired')}</Alert>}
      <form onSubmit={onSubmit} noValidate>
        <Stack>
          <TextInput label={t('auth.email')} type="email" autoComplete="username" required {...form.register('email')} error={fieldError('email')} />
          <PasswordInput label={t('auth.password')} autoComplete="current-password" required {...form.register('password')} error={fieldError('password')} />
          {serverError && (
            <Alert color="red" role="alert" data-testid="sign-in-error">
              {serverError}
            </Alert>
          )}
          <Button type="submit" loading={form.formState.isSubmitting}>
            {t('auth.signIn')}
          </Button>
          <Anchor component={Link} to="/forgot-password" size="sm">
            {t('auth.forgot')}
          </Anchor>
        </Stack>
      </form>
    </AuthFrame>
  );
}
