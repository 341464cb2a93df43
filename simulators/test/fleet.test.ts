/** The fleet against a real broker, ingest and InfluxDB: scenarios produce what they claim, backfill lands with its timestamps. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { DeviceRegistry, REJECTION_REASONS } from '@city/devices';
import { createLogger, waitFor } from '@city/platform';
import { startStack, type Stack } from '../../ingest/test/helpers/stack.js';
import { backfillRaw, ownSessions } from '../src/backfill.js';
import { SimClock } from '../src/clock.js';
import { provisionFleet, type Credentials } from '../src/credentials.js';
import { LiveFleet } from '../src/live-fleet.js';
import type { Placement } from '../src/model/city-data.js';
import { emptyOverlay } from '../src/model/scenarios.js';
import { readingFor, type World } from '../src/model/sensors.js';
import { runScenario } from '../src/scenario-runner.js';
import { bridge, placements } from './helpers/fixtures.js';

const logger = createLogger('test', 'silent');
const HOUR = 3_600_000;
let stack: Stack;
let credentials: Credentials;
let world: World;

beforeAll(async () => {
  stack = await startStack();
  await stack.startIngest();
  const registry = DeviceRegistry.open(join(stack.dataDir, 'registry.db'));
  credentials = await provisionFleet(registry, placements, join(stack.dataDir, 'fleet', 'credentials.json'));
  // A second run reuses what the first stored, as a restarted fleet does.
  const again = await provisionFleet(registry, placements, join(stack.dataDir, 'fleet', 'credentials.json'));
  expect(again).toEqual(credentials);
  registry.close();
  world = { seed: 11, segments: new Map([[bridge.id, bridge]]), overlay: emptyOverlay() };
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

/** A fleet of some of the test devices whose simulated day starts `hoursAgo` and runs `speed` times real time. */
async function startFleet(devices: readonly Placement[], city: World, speed: number, hoursAgo: number): Promise<{ fleet: LiveFleet; clock: SimClock }> {
  const clock = new SimClock(speed, Date.now() - hoursAgo * HOUR);
  const fleet = new LiveFleet({ url: stack.mqttUrl, world: city, clock, placements: devices, credentials, logger });
  await fleet.start();
  return { fleet, clock };
}

const byId = (id: string) => placements.find((p) => p.id === id) as Placement;
const between = (device: string, from: number, to: number) => `WHERE device_id = '${device}' AND time >= ${Math.round(from)}ms AND time < ${Math.round(to)}ms`;
const rejectedSoFar = async () => (await Promise.all(REJECTION_REASONS.map((reason) => stack.ingestMetric('ingest_readings_rejected_total', { reason })))).reduce((a, b) => a + b, 0);

describe('the demo fleet', () => {
  it('publishes live readings and reports an accident from the bridge camera, with speed collapsing there', async () => {
    const watcher = await mqtt.connectAsync(stack.mqttUrl, { clientId: 'service:test-watch', username: 'service:test', password: stack.serviceSecret, reconnectPeriod: 0 });
    const events: { topic: string; body: Record<string, unknown> }[] = [];
    watcher.on('message', (topic, payload) => events.push({ topic, body: JSON.parse(payload.toString()) }));
    await watcher.subscribeAsync('devices/+/events', { qos: 1 });
    const fleet = new LiveFleet({ url: stack.mqttUrl, world, clock: new SimClock(600, Date.now() - 3_600_000), placements, credentials, logger });
    await fleet.start();
    await waitFor('live readings from the fleet', async () => (await stack.count('noise', 'LAeq', "WHERE device_id = 'sim-noise-1'")) >= 2, 20_000);

    const t = Date.now();
    const outcome = await runScenario('accident', t, world, placements, fleet, logger);
    expect(outcome.detail).toMatchObject({ segment: bridge.id });
    expect(outcome.devices).toEqual(['sim-cam-1']);
    const during = readingFor(world, placements[0] as Placement, t + 60_000).averageVehicleSpeed as number;
    const clear = readingFor({ ...world, overlay: emptyOverlay() }, placements[0] as Placement, t + 60_000).averageVehicleSpeed as number;
    expect(during).toBeLessThan(clear / 3);
    await waitFor('the camera\'s accident event', () => events.length > 0);
    expect(events[0]).toMatchObject({ topic: 'devices/sim-cam-1/events', body: { type: 'accident', detail: { segment: bridge.id, severity: 'major' } } });
    await watcher.endAsync();
    await fleet.stop();
  }, 60_000);

  it('drives at least three water-level sensors past their alert level in the flood scenario', async () => {
    const t = Date.now();
    const city: World = { ...world, overlay: emptyOverlay() };
    const outcome = await runScenario('flood', t, city, placements, undefined, logger);
    const levels = placements.filter((p) => p.kind === 'water_level').map((p) => readingFor(city, p, t + 2 * 3_600_000).currentLevel as number);
    expect(levels.filter((level, i) => level > (placements.filter((p) => p.kind === 'water_level')[i]?.alertLevel ?? Infinity)).length).toBeGreaterThanOrEqual(3);
    expect(outcome.devices).toHaveLength(4);
  });

  it('raises PM2.5 and NO2 at the stations well above their usual level in a pollution episode', async () => {
    const city: World = { ...world, overlay: emptyOverlay() };
    const station = byId('sim-aq-1');
    const { fleet, clock } = await startFleet([station], city, 600, 20);
    const outcome = await runScenario('pollution', clock.now(), city, placements, fleet, logger);
    expect(outcome.devices).toEqual(['sim-aq-1']);
    const window = between(station.id, outcome.startMs, outcome.startMs + HOUR);
    await waitFor('readings from the episode in InfluxDB', async () => (await stack.count('air_quality', 'pm25', window)) >= 3, 30_000);
    await fleet.stop();
    const rows = await stack.query(`SELECT pm25, no2 FROM air_quality ${window}`);
    const usual = { ...world, overlay: emptyOverlay() };
    for (const row of rows) {
      const normal = readingFor(usual, station, row.time as number);
      expect(row.pm25 as number).toBeGreaterThan(3 * (normal.pm25 as number));
      expect(row.no2 as number).toBeGreaterThan(1.8 * (normal.no2 as number));
    }
  }, 60_000);

  it('makes a few devices stop publishing for an hour while they stay connected, then resume', async () => {
    const city: World = { ...world, overlay: emptyOverlay() };
    const devices = placements.filter((p) => p.kind === 'water_level' || p.kind === 'noise');
    const watcher = await mqtt.connectAsync(stack.mqttUrl, { clientId: 'service:test-presence', username: 'service:test', password: stack.serviceSecret, reconnectPeriod: 0 });
    // Retained states may arrive after live ones: the newest by its time is the device's presence.
    const presence = new Map<string, { state: string; ts: number }>();
    watcher.on('message', (topic, payload) => {
      const status = JSON.parse(payload.toString()) as { state: string; ts: number };
      const id = topic.split('/')[1] as string;
      if (status.ts >= (presence.get(id)?.ts ?? 0)) presence.set(id, status);
    });
    await watcher.subscribeAsync('devices/+/status', { qos: 1 });
    const { fleet, clock } = await startFleet(devices, city, 600, 16);
    const outcome = await runScenario('silent', clock.now(), city, devices, fleet, logger);
    expect(outcome.endMs - outcome.startMs).toBe(HOUR);
    expect(outcome.devices).toHaveLength(3);
    const talking = devices.find((p) => !outcome.devices.includes(p.id)) as Placement;
    const metric = (p: Placement) => (p.kind === 'noise' ? ['noise', 'LAeq'] : ['water_level', 'currentLevel']) as [string, string];
    await waitFor('the silent devices to speak again after the hour', async () => {
      const after = await Promise.all(outcome.devices.map((id) => stack.count(...metric(byId(id)), between(id, outcome.endMs, outcome.endMs + HOUR))));
      return after.every((n) => n > 0);
    }, 40_000);
    expect(outcome.devices.every((id) => presence.get(id)?.state === 'online')).toBe(true);
    await fleet.stop();
    await watcher.endAsync();
    for (const id of outcome.devices) expect(await stack.count(...metric(byId(id)), between(id, outcome.startMs + 60_000, outcome.endMs)), id).toBe(0);
    expect(await stack.count(...metric(talking), between(talking.id, outcome.startMs + 60_000, outcome.endMs))).toBeGreaterThan(30);
  }, 60_000);

  it('has a device send a mix of malformed payloads at its reporting rhythm for ten minutes, which ingest refuses and never stores', async () => {
    const city: World = { ...world, overlay: emptyOverlay() };
    const meter = byId('sim-noise-1');
    const watcher = await mqtt.connectAsync(stack.mqttUrl, { clientId: 'service:test-errors', username: 'service:test', password: stack.serviceSecret, reconnectPeriod: 0 });
    const reasons = new Set<string>();
    watcher.on('message', (_topic, payload) => [JSON.parse(payload.toString())].flat().forEach((notice: { reason: string }) => reasons.add(notice.reason)));
    await watcher.subscribeAsync(`devices/${meter.id}/errors`, { qos: 0 });
    const rejectedBefore = await rejectedSoFar();
    const arrivedFrom = Date.now();
    const { fleet, clock } = await startFleet([meter], city, 120, 12);
    await waitFor('the meter to report', async () => (await stack.count('noise', 'LAeq', between(meter.id, clock.now() - HOUR, clock.now()))) > 0, 20_000);
    const outcome = await runScenario('garbage', clock.now(), city, [meter], fleet, logger);
    expect(outcome).toMatchObject({ devices: [meter.id], endMs: outcome.startMs + 10 * 60_000 });
    // Ten minutes at one message a minute, each refused, and valid readings once the firmware is fixed.
    await waitFor('ten minutes of garbage refused', async () => (await rejectedSoFar()) - rejectedBefore >= 8, 30_000);
    await waitFor('the meter to report again', async () => (await stack.count('noise', 'LAeq', between(meter.id, outcome.endMs, outcome.endMs + HOUR))) > 0, 30_000);
    await fleet.stop();
    await watcher.endAsync();
    expect(reasons.size).toBeGreaterThanOrEqual(2);
    expect(reasons.has('invalid_json')).toBe(true);
    // Garbage carries no valid time of its own, so anything stored of it would bear its arrival time.
    const rows = await stack.query(`SELECT * FROM noise WHERE device_id = '${meter.id}' AND time >= ${arrivedFrom}ms`);
    expect(rows).toEqual([]);
    expect(await stack.count('noise', 'LAeq', between(meter.id, outcome.startMs + 60_000, outcome.endMs))).toBe(0);
  }, 60_000);

  it('backfills history through the platform with the readings\' own past timestamps', async () => {
    // Before the windows the live fleets of the other tests wrote.
    const to = Date.now() - 30 * HOUR;
    const from = to - 6 * HOUR;
    const acknowledged = await backfillRaw({ world, placements: placements.filter((p) => p.kind === 'water_level'), open: ownSessions(stack.mqttUrl, credentials), fromMs: from, toMs: to });
    expect(acknowledged).toBe(4 * 6 * 60);
    await waitFor('the backfill in InfluxDB', async () => (await stack.count('water_level', 'currentLevel', `WHERE time >= ${from}ms AND time < ${to}ms`)) === acknowledged, 30_000);
  }, 60_000);
});
