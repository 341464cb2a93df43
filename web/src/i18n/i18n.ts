/**
 * Vietnamese by default, English by the switch; the choice is remembered per browser. Every string the
 * console shows comes from `vi.json` / `en.json`.
 */
import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en.json';
import vi from './vi.json';

export const LANGUAGES = ['vi', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

const STORAGE_KEY = 'city.language';

export function storedLanguage(fallback: Language = 'vi'): Language {
  const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
  return stored === 'en' || stored === 'vi' ? stored : fallback;
}

export async function initI18n(language: Language = storedLanguage()): Promise<typeof i18next> {
  await i18next.use(initReactI18next).init({
    resources: { vi: { translation: vi }, en: { translation: en } },
    lng: language,
    fallbackLng: 'vi',
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  labelDocument();
  return i18next;
}

export async function switchLanguage(language: Language): Promise<void> {
  globalThis.localStorage?.setItem(STORAGE_KEY, language);
  await i18next.changeLanguage(language);
  labelDocument();
}

/** The page's language (which native controls such as the date picker follow) and its title. */
function labelDocument(): void {
  document.documentElement.lang = i18next.language;
  document.title = i18next.t('app.title');
}

