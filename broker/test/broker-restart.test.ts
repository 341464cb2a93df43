/**
 * With Redis behind it, a broker restart loses neither what it accepted for a persistent session that had not
 * taken it yet (ingest's, while ingest is away) nor the retained statuses.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { Redis } from 'ioredis';
import { DeviceRegistry } from '@city/devices';
import { createLogger, startRedisServer, waitFor, type LocalRedis } from '@city/platform';
import { freePort, tempDir } from '@city/platform/testing';
import { readBrokerConfig } from '../src/config.js';
import { startBroker } from '../src/server.js';

const SERVICE_SECRET = 'test-service-secret-0123456789';
const logger = createLogger('test', 'silent');
const dir = tempDir('city-broker-restart-');
let redis: LocalRedis;
let registry: DeviceRegistry;

beforeAll(async () => {
  redis = await startRedisServer({ dataDir: dir.path, port: 0, logger });
  registry = DeviceRegistry.open(join(dir.path, 'registry.db'));
});

afterAll(async () => {
  registry?.close();
  await redis?.stop();
  dir.cleanup();
});

const brokerConfig = (port: number) =>
  readBrokerConfig({
    DATA_DIR: dir.path,
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: String(port),
    BROKER_METRICS_PORT: '0',
    MQTT_SERVICE_SECRET: SERVICE_SECRET,
    REDIS_URL: redis.url,
    DEVICE_RATE_LIMIT: '10000',
    DEVICE_RATE_BURST: '10000',
  });
const ingestLike = { clientId: 'service:ingest-test', username: 'service:ingest-test', password: SERVICE_SECRET, clean: false, reconnectPeriod: 0 };

/** Collects the `ts` of every telemetry message a persistent session receives, listening before its CONNACK (the queue follows at once). */
function receiveAll(url: string): { received: Set<number>; client: mqtt.MqttClient } {
  const received = new Set<number>();
  const client = mqtt.connect(url, ingestLike);
  client.on('message', (_topic, payload) => received.add((JSON.parse(payload.toString()) as { ts: number }).ts));
  return { received, client };
}

describe('a broker restart with Redis persistence', () => {
  it('delivers every QoS 1 message queued for an absent persistent session, beyond the store’s default batch of 1000, and keeps retained statuses', async () => {
    const port = await freePort();
    const config = brokerConfig(port);
    const url = `mqtt://127.0.0.1:${port}`;
    const { device, secret } = await registry.add({ id: 'dn-traffic-restart', kind: 'traffic', lon: 108.2208, lat: 16.0544 });

    const first = await startBroker(config, logger);
    const subscriber = await mqtt.connectAsync(url, ingestLike);
    await subscriber.subscribeAsync('devices/+/telemetry', { qos: 1 });
    await subscriber.endAsync();

    const sensor = await mqtt.connectAsync(url, { clientId: device.id, username: device.id, password: secret, reconnectPeriod: 0 });
    const count = 2500;
    for (let i = 0; i < count; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) => sensor.publishAsync(`devices/${device.id}/telemetry`, JSON.stringify({ ts: 1_700_000_000_000 + i + j }), { qos: 1 })),
      );
    }
    await sensor.endAsync();
    await first.close();

    const second = await startBroker(config, logger);
    try {
      const { received, client: back } = receiveAll(url);
      await waitFor(`all ${count} queued messages`, () => received.size === count, 60_000).catch((error: Error) => {
        throw new Error(`${error.message}: ${received.size} received`);
      });
      await back.endAsync();

      const viewer = await mqtt.connectAsync(url, { clientId: 'service:api-test', username: 'service:api', password: SERVICE_SECRET, reconnectPeriod: 0 });
      const status = new Promise<string>((resolve) => viewer.once('message', (_topic, payload) => resolve(payload.toString())));
      await viewer.subscribeAsync(`devices/${device.id}/status`, { qos: 1 });
      expect(JSON.parse(await status)).toMatchObject({ state: 'offline' });
      await viewer.endAsync();
    } finally {
      await second.close();
    }
  }, 120_000);

  it('keeps a message it acknowledged while Redis was slow to store it, when stopped right after', async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const { device, secret } = await registry.add({ id: 'dn-traffic-slow-store', kind: 'traffic', lon: 108.2208, lat: 16.0544 });
    const admin = new Redis(redis.url);
    // aedes acknowledges a QoS 1 PUBLISH before storing it: with Redis holding writes, the PUBACK comes first.
    const first = await startBroker(brokerConfig(port), logger);
    const subscriber = await mqtt.connectAsync(url, ingestLike);
    await subscriber.subscribeAsync('devices/+/telemetry', { qos: 1 });
    await subscriber.endAsync();
    const sensor = await mqtt.connectAsync(url, { clientId: device.id, username: device.id, password: secret, reconnectPeriod: 0 });
    await admin.call('CLIENT', 'PAUSE', '1500', 'WRITE');
    await sensor.publishAsync(`devices/${device.id}/telemetry`, JSON.stringify({ ts: 42 }), { qos: 1 });
    sensor.end(true);
    await first.close();
    admin.disconnect();

    const second = await startBroker(brokerConfig(port), logger);
    try {
      const { received, client } = receiveAll(url);
      await waitFor('the acknowledged message', () => received.has(42), 10_000);
      await client.endAsync();
    } finally {
      await second.close();
    }
  }, 60_000);
});
