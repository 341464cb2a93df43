/**
 * Who may publish and subscribe where. Devices are confined to their own topics; the platform's
 * services (ingest, api) may read every device topic and write only the platform → device channels.
 */
import { DEVICE_PUBLISH_CHANNELS, DEVICE_SUBSCRIBE_CHANNELS, parseDeviceTopic, type Channel } from '@city/devices';

export type Identity = { type: 'device'; id: string } | { type: 'service'; name: string };

const SERVICE_PUBLISH_CHANNELS: readonly Channel[] = ['errors', 'commands', 'status'];

export function mayPublish(identity: Identity, topic: string): boolean {
  const parsed = parseDeviceTopic(topic);
  if (!parsed) return false;
  if (identity.type === 'service') return SERVICE_PUBLISH_CHANNELS.includes(parsed.channel);
  return parsed.deviceId === identity.id && DEVICE_PUBLISH_CHANNELS.includes(parsed.channel);
}

export function maySubscribe(identity: Identity, filter: string): boolean {
  if (identity.type === 'service') return filter === 'devices/#' || filter.startsWith('devices/');
  const parsed = parseDeviceTopic(filter);
  return parsed !== undefined && parsed.deviceId === identity.id && DEVICE_SUBSCRIBE_CHANNELS.includes(parsed.channel);
}
