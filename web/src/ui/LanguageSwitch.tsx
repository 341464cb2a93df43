import { useTranslation } from 'react-i18next';
import { switchLanguage } from '../i18n/i18n.js';

/** Names the other language in its own words, as a switch should. */
export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const next = i18n.language === 'vi' ? 'en' : 'vi';
  return (
    <button type="button" className="language-switch" lang={next} onClick={() => void switchLanguage(next)} aria-label={t('language.switchTo')}>
      {t('language.other')}
    </button>
  );
}
