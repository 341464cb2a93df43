import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiClient } from '../api/client.js';
import type { Health } from '../api/types.js';

const POLL_MS = 30_000;

/** The platform's own health: quiet when all is up, naming the component when something is down. */
export function HealthBadge({ client }: { client: ApiClient }) {
  const { t } = useTranslation();
  const [health, setHealth] = useState<Health | 'unreachable' | undefined>();
  useEffect(() => {
    let active = true;
    const poll = () =>
      client.health().then(
        (answer) => active && setHealth(answer),
        () => active && setHealth('unreachable'),
      );
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      active = false;
      clearInterval(timer);
    };
  }, [client]);
  if (!health) return null;
  if (health === 'unreachable') return <div className="health health-down" role="status">{t('health.unreachable')}</div>;
  const down = Object.entries(health.components).filter(([, state]) => state === 'down').map(([name]) => t(`health.component.${name}`, { defaultValue: name }));
  return (
    <div className={`health health-${health.status}`} role="status" title={t('health.title')}>
      {down.length === 0 ? t('health.up') : t('health.down', { components: down.join(', ') })}
    </div>
  );
}
