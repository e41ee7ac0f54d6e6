// Search across the firm's transcripts and records.
import { Stack, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';

export default function SearchPage() {
  const { t } = useTranslation();
  return (
    <Stack>
      <Title order={1}>{t('search.title')}</Title>
    </Stack>
  );
}
