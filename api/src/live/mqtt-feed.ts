/**
 * The api's view of the broker: every device's retained presence, its telemetry and its events, read
 * as the `service:api` user. Telemetry is taken at QoS 0 — the live map wants the latest value, and
 * durability is ingest's job — and validated with the device contract, exactly as ingest does.
 */
import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { ALL_EVENTS, ALL_STATUS, ALL_TELEMETRY, defaultTimeWindow, parseDeviceTopic, parseEvent, parseTelemetry } from '@city/devices';
import { settlesWithin, type Logger } from '@city/platform';
import type { LiveState } from './live-state.js';

export interface MqttFeedOptions {
  url: string;
  serviceSecret: string;
  live: LiveState;
  logger: Logger;
  /** Called for a message from a device the live state does not know yet (perhaps just provisioned). */
  onUnknownDevice?: (deviceId: string) => void;
  onMessage?: () => void;
  /** How long a stop waits for the broker to end the session gracefully (tests shorten it). */
  endGraceMs?: number;
}

/**
 * How long a shutdown waits for the broker to acknowledge the SUBSCRIBEs in flight and close the session before the
 * connection is cut: a graceful end waits for both, and a broker that stopped answering would hold the api's stop.
 */
const END_GRACE_MS = 5000;

export interface MqttFeed {
  readonly connected: boolean;
  close(): Promise<void>;
}

/** Connects in the background and keeps reconnecting: the api answers (and says the broker is down) meanwhile. */
export function startMqttFeed(options: MqttFeedOptions): MqttFeed {
  const { live, logger } = options;
  const client: MqttClient = connect(options.url, {
    clientId: `service:api-${randomBytes(4).toString('hex')}`,
    username: 'service:api',
    password: options.serviceSecret,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
  });
  const subscribe = () =>
    client.subscribeAsync({ [ALL_STATUS]: { qos: 1 }, [ALL_EVENTS]: { qos: 1 }, [ALL_TELEMETRY]: { qos: 0 } }).catch((error: Error) =>
      logger.error({ err: error.message }, 'could not subscribe to device topics'),
    );
  // One line per outage, not one per reconnect attempt.
  let reported = false;
  // A clean session forgets subscriptions: take them again at every connection.
  client.on('connect', () => {
    void subscribe();
    reported = false;
    logger.info('connected to the broker');
  });
  const lost = (reason: string) => {
    if (reported) return;
    reported = true;
    logger.warn({ err: reason }, 'no broker connection; live state pauses until it is back (retrying every second)');
  };
  client.on('error', (error) => lost(error.message));
  client.on('offline', () => lost('connection closed'));

  client.on('message', (topic, payload) => {
    options.onMessage?.();
    const parsed = parseDeviceTopic(topic);
    if (!parsed) return;
    const device = live.devices.get(parsed.deviceId);
    if (!device) {
      if (payload.length > 0) options.onUnknownDevice?.(parsed.deviceId);
      return;
    }
    const now = Date.now();
    switch (parsed.channel) {
      case 'telemetry': {
        const { readings } = parseTelemetry(payload, device.kind, defaultTimeWindow(now));
        for (const reading of readings) live.applyReading(device.id, reading, now);
        break;
      }
      case 'status': {
        const status = parseStatus(payload);
        if (status) live.applyStatus(device.id, status.state, status.ts);
        break;
      }
      case 'events': {
        const event = parseEvent(payload, defaultTimeWindow(now));
        if ('type' in event) live.applyEvent({ deviceId: device.id, ...event });
        else logger.debug({ deviceId: device.id, reason: event.reason }, 'event refused');
        break;
      }
      default:
        break;
    }
  });

  return {
    get connected() {
      return client.connected;
    },
    async close() {
      const graceMs = options.endGraceMs ?? END_GRACE_MS;
      if (await settlesWithin(client.endAsync(), graceMs)) return;
      logger.warn({ graceMs }, 'the broker did not end the session in time; cutting the connection');
      client.stream.destroy();
    },
  };
}

function parseStatus(payload: Buffer): { state: 'online' | 'offline'; ts: number } | undefined {
  if (payload.length === 0 || payload.length > 1024) return undefined;
  try {
    const status = JSON.parse(payload.toString('utf8')) as { state?: unknown; ts?: unknown };
    if ((status.state === 'online' || status.state === 'offline') && typeof status.ts === 'number' && Number.isFinite(status.ts)) {
      return { state: status.state, ts: status.ts };
    }
  } catch {
    // A malformed status can only come from a misbehaving service; presence then waits for the next one.
  }
  return undefined;
}
