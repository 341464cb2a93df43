import { useTranslation } from 'react-i18next';
import { errorMessage } from '../i18n/labels.js';

/** A failed api call, translated; the api's own words stay visible (smaller) for whoever takes the call. */
export function ErrorNote({ failure }: { failure: unknown }) {
  const { t } = useTranslation();
  const { message, detail } = errorMessage(t, failure);
  return (
    <p className="form-error" role="alert">
      {message}
      {detail && <span className="error-detail">{detail}</span>}
    </p>
  );
}
