/**
 * A brute force against the real broker and api: hundreds of guesses at one device's secret, at many
 * device ids from one address, and at an operator's password. Only the first few guesses are ever
 * checked; the rest are refused unchecked. The device gets back in once its back-off ends; the account
 * refuses even its right password while locked, so that guessing on cannot tell a hit.
 */
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '@city/broker';
import { readBrokerConfig } from '@city/broker/config';
import { DeviceRegistry } from '@city/devices';
import { createLogger, waitFor } from '@city/platform';
import { readMetric, tempDir } from '@city/platform/testing';
import { ADMIN_PASSWORD, startApiStack, type ApiStack } from '../../api/test/helpers/api-stack.js';
import { recordOutcome } from '../src/report.js';

const GUESSES = 200;
let dir: ReturnType<typeof tempDir>;
let broker: RunningBroker;
let registry: DeviceRegistry;
let stack: ApiStack;
let target: { id: string; secret: string };

const BROKER_ENV = {
  MQTT_HOST: '127.0.0.1',
  MQTT_PORT: '0',
  BROKER_METRICS_PORT: '0',
  MQTT_SERVICE_SECRET: 'test-service-secret-0123456789',
  // The attack comes from loopback here, so loopback is not trusted; short back-offs let the test see them end.
  CONNECT_TRUSTED_ADDRESSES: 'none',
  CONNECT_BACKOFF_MAX_DEVICE_SECONDS: '2',
  CONNECT_BACKOFF_MAX_ADDRESS_SECONDS: '4',
};

beforeAll(async () => {
  dir = tempDir('city-brute-force-');
  broker = await startBroker(readBrokerConfig({ ...BROKER_ENV, DATA_DIR: dir.path }), createLogger('test', 'silent'));
  // The broker reads the registry at every CONNECT, so a device provisioned now is known at once.
  registry = DeviceRegistry.open(join(dir.path, 'registry.db'));
  const { device, secret } = await registry.add({ id: 'dn-brute-target', kind: 'noise', lon: 108.2208, lat: 16.0544 });
  target = { id: device.id, secret };
  stack = await startApiStack();
}, 90_000);

afterAll(async () => {
  await broker?.close();
  registry?.close();
  await stack?.close();
  dir?.cleanup();
});

/** The CONNACK return code: 0 in, 4 a checked wrong secret, 3 refused unchecked. */
const attempt = (id: string, secret: string) =>
  new Promise<number>((resolve) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${broker.mqttPort}`, { clientId: id, username: id, password: secret, reconnectPeriod: 0, connectTimeout: 5000 });
    client.once('connect', () => client.end(true, () => resolve(0)));
    client.once('error', (error) => client.end(true, () => resolve((error as { code?: number }).code ?? -1)));
  });

const tally = (codes: number[]) => codes.reduce<Record<number, number>>((counts, code) => ({ ...counts, [code]: (counts[code] ?? 0) + 1 }), {});

describe('brute force', () => {
  it('checks only the first few guesses at a device, at many devices and at an operator', async () => {
    const started = Date.now();
    const outcome = { device: {} as Record<number, number>, spray: {} as Record<number, number>, login: {} as Record<number, number> };
    let passed = false;
    try {
      const atDevice: number[] = [];
      for (let guess = 0; guess < GUESSES; guess++) atDevice.push(await attempt(target.id, `guess-${guess}-${'x'.repeat(32)}`));
      outcome.device = tally(atDevice);
      expect(outcome.device[4]).toBe(6);
      expect(outcome.device[3]).toBe(GUESSES - 6);
      expect(outcome.device[0]).toBeUndefined();

      const spray: number[] = [];
      for (let guess = 0; guess < GUESSES; guess++) spray.push(await attempt(`dn-brute-${guess}`, 'guess'));
      outcome.spray = tally(spray);
      // The address had 6 failures already: 15 more take it past its 20 free ones.
      expect(outcome.spray[4]).toBe(15);
      expect(outcome.spray[3]).toBe(GUESSES - 15);
      expect(await readMetric(broker.metricsPort, 'mqtt_connects_refused_total', { reason: 'throttled_address' })).toBeGreaterThan(0);
      expect(await readMetric(broker.metricsPort, 'mqtt_connects_refused_total', { reason: 'throttled_device' })).toBeGreaterThan(0);
      await waitFor('the device to get in once the back-offs end', async () => (await attempt(target.id, target.secret)) === 0, 15_000, 250);

      const login: number[] = [];
      const refusals = new Set<string>();
      for (let guess = 0; guess < GUESSES; guess++) {
        const response = await stack.call('POST', '/api/v1/auth/login', { body: { username: 'admin', password: `guess-${guess}-password` } });
        login.push(response.status);
        if (response.status === 429) {
          expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
          refusals.add(((await response.json()) as { code: string }).code);
        }
      }
      outcome.login = tally(login);
      expect(outcome.login[401]).toBe(5);
      expect(outcome.login[429]).toBe(GUESSES - 5);
      // Both limits answered: the account's lock, then the address's rate (LOGINS_PER_MINUTE, 10 by default).
      expect([...refusals].sort()).toEqual(['rate_limited', 'too_many_attempts']);
      passed = true;
    } finally {
      recordOutcome({
        id: 'brute-force',
        fault: `brute force: ${GUESSES} guesses at one device's secret, ${GUESSES} at as many device ids from one address, ${GUESSES} at an operator's password`,
        load: 'the guesses themselves, one after another, from one address',
        lost: 'nothing',
        recoverySeconds: null,
        passed,
        notes:
          `secrets checked: ${outcome.device[4] ?? 0} of the device guesses, ${outcome.spray[4] ?? 0} of the sprayed ids, ${outcome.login[401] ?? 0} of the password guesses; ` +
          `the rest refused unchecked (CONNACK 3 / HTTP 429); the device got in when its back-off ended; ${((Date.now() - started) / 1000).toFixed(1)} s in all`,
      });
    }
    expect((await stack.call('POST', '/api/v1/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } })).status).toBe(429);
  });
});
