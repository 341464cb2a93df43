import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatTime } from '../i18n/format.js';
import type { LiveStore } from './live-store.js';
import type { ConnectionState } from './stream.js';
import { useStoreValue } from './use-store.js';

/** Live, reconnecting (with the countdown) or closed — and how old the newest data is. */
export function ConnectionIndicator({ state, retryAt, store }: { state: ConnectionState; retryAt: number | undefined; store: LiveStore }) {
  const { t, i18n } = useTranslation();
  // Read here, not in the console: a message must not re-render everything around the map.
  const lastUpdate = useStoreValue(store, () => store.lastUpdate);
  const [now, setNow] = useState(Date.now());
  // The clock only runs for the countdown: a re-render every second would keep an idle wall screen busy.
  useEffect(() => {
    if (retryAt === undefined) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [retryAt]);
  const seconds = retryAt ? Math.max(0, Math.ceil((retryAt - now) / 1000)) : undefined;
  return (
    <div className={`connection connection-${state}`} role="status" aria-live="polite" data-state={state}>
      <span className="connection-dot" aria-hidden="true" />
      <span>{state === 'reconnecting' && seconds !== undefined ? t('connection.reconnectingIn', { seconds }) : t(`connection.${state}`)}</span>
      {lastUpdate !== undefined && <span className="connection-time">{t('connection.updated', { time: formatTime(i18n.language, lastUpdate) })}</span>}
    </div>
  );
}
