import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { DeviceRegistry } from '@city/devices';
import { createLogger } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import { readBrokerConfig } from '../src/config.js';
import { startBroker, type RunningBroker } from '../src/server.js';

let dir: ReturnType<typeof tempDir>;
let running: RunningBroker;
let credentials: { id: string; secret: string };

beforeAll(async () => {
  dir = tempDir('city-broker-tls-');
  const cert = join(dir.path, 'broker.crt');
  const key = join(dir.path, 'broker.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const registry = DeviceRegistry.open(join(dir.path, 'registry.db'));
  const added = await registry.add({ id: 'dn-tls-1', kind: 'noise', lon: 108.2208, lat: 16.0544 });
  credentials = { id: added.device.id, secret: added.secret };
  registry.close();
  running = await startBroker(
    readBrokerConfig({
      DATA_DIR: dir.path,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: '0',
      MQTTS_PORT: '0',
      MQTT_TLS_CERT: cert,
      MQTT_TLS_KEY: key,
      BROKER_METRICS_PORT: '0',
      MQTT_SERVICE_SECRET: 'test-service-secret-0123456789',
    }),
    createLogger('test', 'silent'),
  );
});

afterAll(async () => {
  await running?.close();
  dir?.cleanup();
});

describe('MQTT over TLS', () => {
  it('accepts a device that trusts the broker certificate and refuses one that does not', async () => {
    const ca = readFileSync(join(dir.path, 'broker.crt'));
    const options = { clientId: credentials.id, username: credentials.id, password: credentials.secret, reconnectPeriod: 0, connectTimeout: 5000 };
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${running.mqttsPort}`, { ...options, ca });
    await client.publishAsync(`devices/${credentials.id}/telemetry`, '{"LAeq":50,"LAmax":60}', { qos: 1 });
    await client.endAsync();
    await expect(mqtt.connectAsync(`mqtts://127.0.0.1:${running.mqttsPort}`, options)).rejects.toThrow(/self.signed|certificate/i);
  });

  it('refuses plain-text MQTT on the TLS port: the connection ends before any CONNACK', async () => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${running.mqttsPort}`, {
      clientId: credentials.id,
      username: credentials.id,
      password: credentials.secret,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    const outcome = await new Promise<string>((resolve) => {
      client.once('connect', () => resolve('connected'));
      client.once('close', () => resolve('closed'));
    });
    client.end(true);
    expect(outcome).toBe('closed');
  });
});
