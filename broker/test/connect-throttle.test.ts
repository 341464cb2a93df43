import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { DeviceRegistry } from '@city/devices';
import { createLogger, waitFor } from '@city/platform';
import { readMetric, tempDir } from '@city/platform/testing';
import { readBrokerConfig } from '../src/config.js';
import { ConnectThrottle, FailureBackoff } from '../src/connect-throttle.js';
import { startBroker, type RunningBroker } from '../src/server.js';

describe('failure back-off', () => {
  const policy = { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 8000 };

  it('lets the free failures through, then doubles the refusal up to its maximum', () => {
    const backoff = new FailureBackoff(policy);
    for (let i = 0; i < 3; i++) backoff.fail('k', 0);
    expect(backoff.refusedFor('k', 0)).toBe(0);
    const delays: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      backoff.fail('k', now);
      delays.push(backoff.refusedFor('k', now));
      now += delays.at(-1) as number;
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    expect(backoff.refusedFor('other', now)).toBe(0);
  });

  it('starts afresh after a quiet spell as long as the longest back-off', () => {
    const backoff = new FailureBackoff(policy);
    for (let i = 0; i < 4; i++) backoff.fail('k', 0);
    expect(backoff.refusedFor('k', 0)).toBe(1000);
    backoff.fail('k', 1000 + 8000);
    expect(backoff.refusedFor('k', 9000)).toBe(0);
  });

  it('counts services only by address and never refuses a trusted address as a whole', () => {
    const throttle = new ConnectThrottle({ perDevice: policy, perAddress: { ...policy, freeFailures: 1 }, trustedAddresses: new Set(['127.0.0.1']) });
    for (let i = 0; i < 10; i++) throttle.failed('service:ingest', '127.0.0.1', 0);
    expect(throttle.check('service:ingest', '127.0.0.1', 0)).toEqual({ refused: false });
    throttle.failed('service:ingest', '203.0.113.9', 0);
    throttle.failed('service:ingest', '203.0.113.9', 0);
    expect(throttle.check('service:ingest', '203.0.113.9', 0)).toMatchObject({ refused: true, reason: 'throttled_address' });
    expect(throttle.check('service:ingest', '127.0.0.1', 0)).toEqual({ refused: false });
  });

  it('clears a device on success but not the address it came from', () => {
    const throttle = new ConnectThrottle({ perDevice: policy, perAddress: { ...policy, freeFailures: 1 }, trustedAddresses: new Set() });
    for (let i = 0; i < 3; i++) throttle.failed('dn-a', '198.51.100.7', 0);
    throttle.succeeded('dn-a');
    expect(throttle.check('dn-a', '192.0.2.1', 0)).toEqual({ refused: false });
    expect(throttle.check('dn-b', '198.51.100.7', 0)).toMatchObject({ refused: true, reason: 'throttled_address' });
  });
});

describe('brute force at CONNECT', () => {
  let dir: ReturnType<typeof tempDir>;
  const brokers: RunningBroker[] = [];
  const devices: Record<string, string> = {};

  beforeAll(async () => {
    dir = tempDir('city-broker-throttle-');
    const registry = DeviceRegistry.open(join(dir.path, 'registry.db'));
    for (const id of ['dn-noise-target', 'dn-noise-bystander']) devices[id] = (await registry.add({ id, kind: 'noise', lon: 108.2208, lat: 16.0544 })).secret;
    registry.close();
  });

  afterAll(async () => {
    for (const running of brokers) await running.close();
    dir?.cleanup();
  });

  // Each case starts a broker of its own on the shared registry and they all run until the end; a durable store
  // admits one broker per data directory, and these need none.
  const start = async (env: Record<string, string>) => {
    const running = await startBroker(
      readBrokerConfig({ DATA_DIR: dir.path, BROKER_STORE: 'memory', MQTT_HOST: '127.0.0.1', MQTT_PORT: '0', BROKER_METRICS_PORT: '0', MQTT_SERVICE_SECRET: 'test-service-secret-0123456789', ...env }),
      createLogger('test', 'silent'),
    );
    brokers.push(running);
    return running;
  };

  const attempt = async (running: RunningBroker, id: string, secret: string): Promise<number> => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${running.mqttPort}`, { clientId: id, username: id, password: secret, reconnectPeriod: 0, connectTimeout: 5000 });
    return new Promise<number>((resolve) => {
      client.once('connect', () => client.end(true, () => resolve(0)));
      client.once('error', (error) => client.end(true, () => resolve((error as { code?: number }).code ?? -1)));
    });
  };

  it('refuses a device id that keeps failing, even with its right secret, until its back-off ends; other devices are untouched', async () => {
    const running = await start({ CONNECT_FREE_FAILURES_PER_DEVICE: '3', CONNECT_BACKOFF_MAX_DEVICE_SECONDS: '2' });
    for (let guess = 0; guess < 3; guess++) expect(await attempt(running, 'dn-noise-target', `guess-${guess}`)).toBe(4);
    expect(await attempt(running, 'dn-noise-target', `guess-3`)).toBe(4);
    expect(await attempt(running, 'dn-noise-target', devices['dn-noise-target'] as string)).toBe(3);
    expect(await attempt(running, 'dn-noise-bystander', devices['dn-noise-bystander'] as string)).toBe(0);
    expect(await readMetric(running.metricsPort, 'mqtt_connects_refused_total', { reason: 'throttled_device' })).toBeGreaterThanOrEqual(1);
    await waitFor('the back-off to end', async () => (await attempt(running, 'dn-noise-target', devices['dn-noise-target'] as string)) === 0, 10_000, 250);
  });

  it('refuses an address that keeps failing under many ids, whatever it claims next', async () => {
    const running = await start({ CONNECT_FREE_FAILURES_PER_ADDRESS: '5', CONNECT_BACKOFF_MAX_ADDRESS_SECONDS: '60', CONNECT_TRUSTED_ADDRESSES: 'none' });
    for (let guess = 0; guess < 6; guess++) expect(await attempt(running, `dn-noise-guess-${guess}`, 'guess')).toBe(4);
    expect(await attempt(running, 'dn-noise-bystander', devices['dn-noise-bystander'] as string)).toBe(3);
    expect(await readMetric(running.metricsPort, 'mqtt_connects_refused_total', { reason: 'throttled_address' })).toBe(1);
  });

  it('leaves the platform\'s own address alone by default', async () => {
    const running = await start({ CONNECT_FREE_FAILURES_PER_ADDRESS: '2' });
    for (let guess = 0; guess < 4; guess++) expect(await attempt(running, `dn-noise-other-${guess}`, 'guess')).toBe(4);
    expect(await attempt(running, 'dn-noise-bystander', devices['dn-noise-bystander'] as string)).toBe(0);
    expect(await readMetric(running.metricsPort, 'mqtt_connects_refused_total', { reason: 'throttled_address' })).toBeNaN();
  });
});
