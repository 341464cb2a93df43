/**
 * A device removed from the registry, or whose secret was rotated, loses its connection within one
 * sweep rather than staying connected on credentials that no longer exist.
 */
import type { Aedes, Client } from 'aedes';
import type { DeviceRegistry } from '@city/devices';
import type { Logger } from '@city/platform';
import type { BrokerMetrics } from './metrics.js';

export function watchRevocations(
  broker: Aedes,
  registry: Pick<DeviceRegistry, 'get'>,
  deviceOf: (client: Client) => { id: string; updatedAt: number } | undefined,
  metrics: BrokerMetrics,
  logger: Logger,
  intervalMs: number,
): () => void {
  const sweep = () => {
    for (const client of Object.values((broker as unknown as { clients: Record<string, Client> }).clients)) {
      const connected = deviceOf(client);
      if (!connected) continue;
      const current = registry.get(connected.id);
      if (current && current.updatedAt === connected.updatedAt) continue;
      metrics.rejections.inc({ reason: current ? 'secret_rotated' : 'device_removed' });
      logger.info({ deviceId: connected.id, reason: current ? 'secret rotated' : 'device removed' }, 'disconnecting a device whose credentials changed');
      client.close();
    }
  };
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
