// Loading, error and empty states that say what is happening and what to do next.
import { Alert, Button, Center, Group, Loader, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { isApiError } from '../api/client';

export function PageLoader() {
  const { t } = useTranslation();
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="sm">
        <Loader size="sm" aria-hidden />
        <Text>{t('common.loading')}</Text>
      </Group>
    </Center>
  );
}

// The server writes its messages as "français / English": show the user's half.
export function pickLanguage(message: string, lang: string): string {
  const parts = message.split(' / ');
  if (parts.length !== 2) return message;
  return lang === 'en' ? parts[1] : parts[0];
}

// The user-facing sentence for an error: the server's message when it sent one (already in
// French and English), otherwise what the status means.
export function useErrorMessage() {
  const { t, i18n } = useTranslation();
  return (err: unknown): string => {
    if (isApiError(err)) {
      if (err.status === 0) return t('errors.network');
      if (err.message) return pickLanguage(err.message, i18n.language);
      const key = `errors.status_${err.status}`;
      const s = t(key);
      return s === key ? t('errors.generic', { status: err.status }) : s;
    }
    return err instanceof Error && err.message ? err.message : t('errors.unknown');
  };
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  const message = useErrorMessage()(error);
  return (
    <Alert color="red" title={t('errors.title')} role="alert">
      <Stack gap="xs">
        <Text size="sm">{message}</Text>
        {onRetry && (
          <Group>
            <Button size="xs" variant="white" color="red" onClick={onRetry}>
              {t('common.retry')}
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
}

export function EmptyState({ title, hint, action }: { title: string; hint?: string; action?: ReactNode }) {
  return (
    <Stack align="center" py="xl" gap="xs">
      <Text fw={600}>{title}</Text>
      {hint && (
        <Text size="sm" c="dimmed" ta="center">
          {hint}
        </Text>
      )}
      {action}
    </Stack>
  );
}
