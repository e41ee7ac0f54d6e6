// Sends a failed mail again (a new attempt by the mail job); the lists showing it are read again.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { notify } from '../../lib/notify';
import { useErrorMessage } from '../States';
import type { Mail } from './types';

export const MAILS_KEY = ['mails'] as const;

export function useRetryMail() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  return useMutation({
    mutationFn: (id: string) => api.post<Mail>(`/api/mails/${id}/retry`),
    onSuccess: () => {
      notify({ color: 'green', message: t('mails.retried') });
      void qc.invalidateQueries({ queryKey: MAILS_KEY });
    },
    onError: (e) => notify({ color: 'red', title: t('errors.title'), message: errorMessage(e) }),
  });
}
