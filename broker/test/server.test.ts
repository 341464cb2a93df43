import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { DeviceRegistry } from '@city/devices';
import { waitFor } from '@city/platform';
import { readMetric, tempDir } from '@city/platform/testing';
import type { RunningBroker } from '../src/server.js';
import { startTestBroker } from './fixtures/test-broker.js';

const SERVICE_SECRET = 'test-service-secret-0123456789';
let dir: ReturnType<typeof tempDir>;
let registry: DeviceRegistry;
let running: RunningBroker;
let url: string;
let sensor: { id: string; secret: string };

beforeAll(async () => {
  dir = tempDir('city-broker-');
  registry = DeviceRegistry.open(join(dir.path, 'registry.db'));
  running = await startTestBroker(dir.path, {
    MQTT_SERVICE_SECRET: SERVICE_SECRET,
    DEVICE_RATE_LIMIT: '0.5',
    DEVICE_RATE_BURST: '5',
    MAX_ACL_VIOLATIONS: '3',
    MQTT_MAX_PACKET_BYTES: '4096',
    REVOCATION_SWEEP_MS: '100',
  });
  url = `mqtt://127.0.0.1:${running.mqttPort}`;
  const added = await registry.add({ id: 'dn-noise-1', kind: 'noise', lon: 108.2208, lat: 16.0544 });
  sensor = { id: added.device.id, secret: added.secret };
});

afterAll(async () => {
  await running?.close();
  registry?.close();
  dir?.cleanup();
});

const device = (id = sensor.id, secret = sensor.secret) =>
  mqtt.connectAsync(url, { clientId: id, username: id, password: secret, reconnectPeriod: 0 });
const service = () => mqtt.connectAsync(url, { clientId: 'service:test', username: 'service:test', password: SERVICE_SECRET, reconnectPeriod: 0 });

const metric = async (name: string, labels: Record<string, string> = {}) => {
  const value = await readMetric(running.metricsPort, name, labels);
  return Number.isNaN(value) ? 0 : value;
};

describe('broker', () => {
  it('accepts a device with its secret and refuses wrong secrets, unknown devices and borrowed client ids', async () => {
    const client = await device();
    expect(client.connected).toBe(true);
    await client.endAsync();
    await expect(device(sensor.id, 'wrong')).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(device('dn-ghost', 'whatever')).rejects.toThrow();
    await expect(mqtt.connectAsync(url, { clientId: 'someone-else', username: sensor.id, password: sensor.secret, reconnectPeriod: 0 })).rejects.toThrow();
    expect(await metric('mqtt_connects_refused_total', { reason: 'bad_credentials' })).toBeGreaterThanOrEqual(2);
  });

  it('sees a device added, rotated and removed in the registry at its next CONNECT', async () => {
    const added = await registry.add({ id: 'dn-noise-late', kind: 'noise', lon: 108.2208, lat: 16.0544 });
    const first = await device(added.device.id, added.secret);
    await first.endAsync();
    const rotated = await registry.rotate(added.device.id);
    await expect(device(added.device.id, added.secret)).rejects.toThrow();
    const second = await device(added.device.id, rotated);
    await second.endAsync();
    registry.remove(added.device.id);
    await expect(device(added.device.id, rotated)).rejects.toThrow();
  });

  it('disconnects a connected device once its secret is rotated or it is removed', async () => {
    const added = await registry.add({ id: 'dn-noise-revoked', kind: 'noise', lon: 108.2208, lat: 16.0544 });
    const client = await device(added.device.id, added.secret);
    const closedAfterRotation = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const rotated = await registry.rotate(added.device.id);
    await closedAfterRotation;
    const again = await device(added.device.id, rotated);
    const closedAfterRemoval = new Promise<void>((resolve) => again.once('close', () => resolve()));
    registry.remove(added.device.id);
    await closedAfterRemoval;
    expect(await metric('mqtt_rejections_total', { reason: 'device_removed' })).toBe(1);
    expect(await metric('mqtt_rejections_total', { reason: 'secret_rotated' })).toBe(1);
  });

  it('publishes retained presence: online on connect, offline when the device drops', async () => {
    const watcher = await service();
    const states: string[] = [];
    watcher.on('message', (_topic, payload) => states.push(JSON.parse(payload.toString()).state));
    const client = await device();
    await watcher.subscribeAsync(`devices/${sensor.id}/status`, { qos: 1 });
    await waitFor('online', () => states.at(-1) === 'online');
    client.stream.destroy();
    await waitFor('offline after an unclean drop', () => states.at(-1) === 'offline');
    await watcher.endAsync();
  });

  it('drops and reports a publish to another device\'s topic, then disconnects a device that keeps trying', async () => {
    const client = await device();
    const errors: string[] = [];
    await client.subscribeAsync(`devices/${sensor.id}/errors`);
    client.on('message', (_topic, payload) => errors.push(payload.toString()));
    await client.publishAsync('devices/dn-other/telemetry', '{}', { qos: 1 });
    await waitFor('the refusal on the errors topic', () => errors.some((text) => text.includes('acl_publish')));
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    for (let i = 0; i < 5; i++) client.publish('devices/dn-other/telemetry', '{}', { qos: 0 });
    await closed;
    expect(await metric('mqtt_rejections_total', { reason: 'disconnected_for_violations' })).toBeGreaterThanOrEqual(1);
  });

  it('refuses subscriptions outside a device\'s own commands and errors', async () => {
    const client = await device();
    await expect(client.subscribeAsync('devices/#')).rejects.toThrow(/Subscribe error/);
    await expect(client.subscribeAsync('devices/dn-other/commands')).rejects.toThrow(/Subscribe error/);
    const granted = await client.subscribeAsync(`devices/${sensor.id}/commands`, { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    await client.endAsync();
  });

  it('rate-limits a device beyond its burst without stalling others', async () => {
    const watcher = await service();
    let delivered = 0;
    watcher.on('message', () => delivered++);
    await watcher.subscribeAsync(`devices/${sensor.id}/telemetry`, { qos: 0 });
    const client = await device();
    // Eight at once: the burst of five passes, three are dropped (not yet enough to be disconnected).
    for (let i = 0; i < 8; i++) await client.publishAsync(`devices/${sensor.id}/telemetry`, '{"LAeq":1,"LAmax":2}', { qos: 1 });
    const neighbour = await registry.add({ id: 'dn-noise-2', kind: 'noise', lon: 108.2208, lat: 16.0544 });
    await watcher.subscribeAsync(`devices/${neighbour.device.id}/telemetry`, { qos: 0 });
    const other = await device(neighbour.device.id, neighbour.secret);
    await other.publishAsync(`devices/${neighbour.device.id}/telemetry`, '{"LAeq":1,"LAmax":2}', { qos: 1 });
    await waitFor('the burst and the neighbour to arrive', () => delivered >= 6);
    expect(delivered).toBe(6);
    expect(client.connected).toBe(true);
    expect(await metric('mqtt_rejections_total', { reason: 'rate_limited' })).toBe(3);
    await client.endAsync();
    await other.endAsync();
    await watcher.endAsync();
  });

  it('keeps a device\'s spent burst across reconnections', async () => {
    const added = await registry.add({ id: 'dn-noise-3', kind: 'noise', lon: 108.2208, lat: 16.0544 });
    const limited = () => metric('mqtt_rejections_total', { reason: 'rate_limited' });
    const first = await device(added.device.id, added.secret);
    for (let i = 0; i < 5; i++) await first.publishAsync(`devices/${added.device.id}/telemetry`, '{"LAeq":1,"LAmax":2}', { qos: 1 });
    await first.endAsync();
    const before = await limited();
    const second = await device(added.device.id, added.secret);
    await second.publishAsync(`devices/${added.device.id}/telemetry`, '{"LAeq":1,"LAmax":2}', { qos: 1 });
    expect(await limited()).toBe(before + 1);
    await second.endAsync();
  });

  it('cuts a connection that announces a packet over the size limit', async () => {
    const socket = connectTcp(running.mqttPort, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: sensor.id, clean: true, keepalive: 30, username: sensor.id, password: Buffer.from(sensor.secret) }));
    const header = mqttPacket.generate({ cmd: 'publish', topic: `devices/${sensor.id}/telemetry`, payload: Buffer.alloc(100_000), qos: 0, retain: false, dup: false });
    socket.write(header.subarray(0, 16));
    await new Promise((resolve) => socket.once('close', resolve));
    expect(await metric('mqtt_rejections_total', { reason: 'packet_too_large' })).toBe(1);
  });
});
