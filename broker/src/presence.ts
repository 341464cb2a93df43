/**
 * Retained `devices/{id}/status` messages: online when a device connects, offline when it goes away,
 * cleanly or not. A quick reconnect replaces the old connection; its late disconnect must not mark
 * the device offline, so only the device's current connection may publish its state.
 */
import type { Aedes, Client } from 'aedes';
import { deviceTopic, type StatusMessage } from '@city/devices';
import type { Identity } from './acl.js';
import type { BrokerMetrics } from './metrics.js';

export function createPresence(broker: Aedes, identify: (client: Client) => Identity | undefined, metrics: BrokerMetrics): void {
  const current = new Map<string, Client>();

  const publishStatus = (deviceId: string, state: StatusMessage['state']) => {
    const status: StatusMessage = { state, ts: Date.now() };
    broker.publish(
      { cmd: 'publish', topic: deviceTopic(deviceId, 'status'), payload: Buffer.from(JSON.stringify(status)), qos: 1, retain: true, dup: false },
      () => undefined,
    );
  };

  broker.on('client', (client) => {
    const identity = identify(client);
    metrics.connections.inc({ type: identity?.type ?? 'unknown' });
    if (identity?.type !== 'device') return;
    current.set(identity.id, client);
    publishStatus(identity.id, 'online');
  });

  broker.on('clientDisconnect', (client) => {
    const identity = identify(client);
    metrics.connections.dec({ type: identity?.type ?? 'unknown' });
    if (identity?.type !== 'device' || current.get(identity.id) !== client) return;
    current.delete(identity.id);
    publishStatus(identity.id, 'offline');
  });
}
