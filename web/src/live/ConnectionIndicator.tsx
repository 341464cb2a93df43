import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatTime } from '../i18n/format.js';
import type { ConnectionState } from './stream.js';

/** Live, reconnecting (with the countdown) or closed — and how old the newest data is. */
export function ConnectionIndicator({ state, retryAt, lastUpdate }: { state: ConnectionState; retryAt: number | undefined; lastUpdate: number | undefined }) {
  const { t, i18n } = useTranslation();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const seconds = retryAt ? Math.max(0, Math.ceil((retryAt - now) / 1000)) : undefined;
  return (
    <div className={`connection connection-${state}`} role="status" aria-live="polite" data-state={state}>
      <span className="connection-dot" aria-hidden="true" />
      <span>{state === 'reconnecting' && seconds !== undefined ? t('connection.reconnectingIn', { seconds }) : t(`connection.${state}`)}</span>
      {lastUpdate !== undefined && <span className="connection-time">{t('connection.updated', { time: formatTime(i18n.language, lastUpdate) })}</span>}
    </div>
  );
}
