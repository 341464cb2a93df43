/**
 * A broker killed with SIGKILL under a QoS 1 load has stored every message it acknowledged: after a restart, the
 * persistent session they were for (ingest's, away meanwhile) receives each one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { DeviceRegistry } from '@city/devices';
import { isPortOpen, waitFor } from '@city/platform';
import { freePort, tempDir } from '@city/platform/testing';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SERVICE_SECRET = 'test-service-secret-0123456789';
const dir = tempDir('city-broker-kill-');
const ingestLike = { clientId: 'service:ingest-test', username: 'service:ingest-test', password: SERVICE_SECRET, clean: false, reconnectPeriod: 0 };
let registry: DeviceRegistry;
let broker: ChildProcess | undefined;

beforeAll(() => {
  registry = DeviceRegistry.open(join(dir.path, 'registry.db'));
});

afterAll(async () => {
  if (broker && broker.exitCode === null) await stop(broker, 'SIGKILL');
  registry?.close();
  dir.cleanup();
});

async function startBrokerProcess(port: number): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dir.path, MQTT_HOST: '127.0.0.1', MQTT_PORT: String(port), BROKER_METRICS_PORT: '0', MQTT_SERVICE_SECRET: SERVICE_SECRET, DEVICE_RATE_LIMIT: '100000', DEVICE_RATE_BURST: '100000', LOG_LEVEL: 'warn' };
  delete env.REDIS_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'broker/src/index.ts'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor('the broker listening', () => isPortOpen(port), 30_000);
  return child;
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

describe('a broker killed with SIGKILL under QoS 1 load', () => {
  it('delivers every message it acknowledged to the persistent session after a restart', async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const { device, secret } = await registry.add({ id: 'dn-traffic-kill', kind: 'traffic', lon: 108.2208, lat: 16.0544 });
    broker = await startBrokerProcess(port);

    const subscriber = await mqtt.connectAsync(url, ingestLike);
    await subscriber.subscribeAsync('devices/+/telemetry', { qos: 1 });
    await subscriber.endAsync();

    // Publishes with 500 in flight until 5,000 are acknowledged, then kills the broker mid-stream.
    const sensor = await mqtt.connectAsync(url, { clientId: device.id, username: device.id, password: secret, reconnectPeriod: 0 });
    sensor.on('error', () => undefined);
    const acknowledged: number[] = [];
    const running = broker;
    const killed = new Promise((resolve) => running.once('exit', resolve));
    let sent = 0;
    await new Promise<void>((resolve) => {
      const send = () => {
        if (acknowledged.length >= 5000) {
          running.kill('SIGKILL');
          return resolve();
        }
        const ts = 1_700_000_000_000 + ++sent;
        sensor.publish(`devices/${device.id}/telemetry`, JSON.stringify({ ts }), { qos: 1 }, (error) => {
          if (error) return resolve();
          acknowledged.push(ts);
          send();
        });
      };
      for (let i = 0; i < 500; i++) send();
    });
    await killed;
    sensor.end(true);

    broker = await startBrokerProcess(port);
    const received = new Set<number>();
    const back = mqtt.connect(url, ingestLike);
    back.on('message', (_topic, payload) => received.add((JSON.parse(payload.toString()) as { ts: number }).ts));
    try {
      await waitFor('every acknowledged message', () => acknowledged.every((ts) => received.has(ts)), 30_000).catch(() => undefined);
      expect(acknowledged.filter((ts) => !received.has(ts))).toEqual([]);
    } finally {
      await back.endAsync();
      await stop(broker, 'SIGTERM');
    }
  }, 90_000);
});
