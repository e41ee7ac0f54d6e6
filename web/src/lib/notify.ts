// Notifications with a labelled close button (screen readers and axe-core need its name).
import { notifications, type NotificationData } from '@mantine/notifications';
import i18n from 'i18next';

export function notify(data: NotificationData): string {
  return notifications.show({ closeButtonProps: { 'aria-label': i18n.t('common.close') }, ...data });
}
