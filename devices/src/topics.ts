/** MQTT topic layout. Device ids are restricted so that they are safe as a topic level and as an InfluxDB tag. */

const TOPIC_ROOT = 'devices/';

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function isValidDeviceId(id: string): boolean {
  return DEVICE_ID_PATTERN.test(id);
}

export const CHANNELS = ['telemetry', 'status', 'events', 'errors', 'commands'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * Channels a device may publish to. Not `status`: presence is the broker's word, and a device that could write
 * its own retained status could show itself online while gone, or offline while up.
 */
export const DEVICE_PUBLISH_CHANNELS: readonly Channel[] = ['telemetry', 'events'];
export const DEVICE_SUBSCRIBE_CHANNELS: readonly Channel[] = ['commands', 'errors'];

export function deviceTopic(deviceId: string, channel: Channel): string {
  return `${TOPIC_ROOT}${deviceId}/${channel}`;
}

export interface ParsedTopic {
  deviceId: string;
  channel: Channel;
}

export function parseDeviceTopic(topic: string): ParsedTopic | undefined {
  const channel = topic.slice(topic.lastIndexOf('/') + 1);
  if (!(CHANNELS as readonly string[]).includes(channel)) return undefined;
  const deviceId = deviceIdOn(topic, channel as Channel);
  return deviceId === undefined ? undefined : { deviceId, channel: channel as Channel };
}

/**
 * The device of a `devices/{id}/{channel}` topic on that one channel, or undefined: parseDeviceTopic for a caller
 * that knows its channel (ingest, for every telemetry message), without splitting the topic or an object per call.
 */
export function deviceIdOn(topic: string, channel: Channel): string | undefined {
  const idEnd = topic.length - channel.length - 1;
  if (!topic.startsWith(TOPIC_ROOT) || !topic.endsWith(channel) || topic[idEnd] !== '/') return undefined;
  const deviceId = topic.slice(TOPIC_ROOT.length, idEnd);
  return isValidDeviceId(deviceId) ? deviceId : undefined;
}

/** Subscriptions the platform's own services use. */
export const ALL_TELEMETRY = 'devices/+/telemetry';
export const ALL_STATUS = 'devices/+/status';
export const ALL_EVENTS = 'devices/+/events';

export const MAX_PAYLOAD_BYTES = 64 * 1024;
export const MAX_BATCH_READINGS = 1000;

export interface StatusMessage {
  state: 'online' | 'offline';
  ts: number;
}

/** Why a message was refused, as told to the device on `devices/{id}/errors` and counted in metrics. */
export interface RejectionNotice {
  reason: string;
  message: string;
  /** Index of the offending reading in a gateway batch. */
  index?: number;
  ts: number;
}
