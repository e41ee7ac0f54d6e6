// Registers the transcript and search screens' messages (catalogue.ts) when these screens load.
import i18n from 'i18next';
import { en, fr } from './catalogue';

export { en, fr };

// Deep-merged into the "translation" namespace, over any placeholder keys of the same name.
export function registerMessages(): void {
  i18n.addResourceBundle('fr', 'translation', fr, true, true);
  i18n.addResourceBundle('en', 'translation', en, true, true);
}
registerMessages();
