/** The fleet against a real broker, ingest and InfluxDB: scenarios produce what they claim, backfill lands with its timestamps. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { DeviceRegistry } from '@city/devices';
import { createLogger, waitFor } from '@city/platform';
import { startStack, type Stack } from '../../ingest/test/helpers/stack.js';
import { backfillRaw, ownSessions } from '../src/backfill.js';
import { SimClock } from '../src/clock.js';
import { provisionFleet, type Credentials } from '../src/credentials.js';
import { LiveFleet } from '../src/live-fleet.js';
import type { Placement, RoadSegment } from '../src/model/city-data.js';
import { emptyOverlay } from '../src/model/scenarios.js';
import { readingFor, type World } from '../src/model/sensors.js';
import { runScenario } from '../src/scenario-runner.js';

const logger = createLogger('test', 'silent');
const bridge: RoadSegment = {
  id: 'cau-song-han',
  name: 'Cầu Sông Hàn',
  nameEn: 'Han River Bridge',
  street: 'Cầu Sông Hàn',
  kind: 'bridge',
  lanes: 4,
  speedLimit: 50,
  capacity: 5000,
  zone: 'hai-chau',
  coordinates: [
    [108.224, 16.072],
    [108.23, 16.0718],
  ],
};
const place = (id: string, kind: Placement['kind'], extra: Partial<Placement> = {}): Placement => ({ id, kind, name: id, nameEn: id, zone: 'hai-chau', lon: 108.2208, lat: 16.0544, ...extra });
const placements: Placement[] = [
  place('sim-cam-1', 'traffic', { segment: bridge.id, camera: true }),
  place('sim-aq-1', 'air_quality'),
  ...[1, 2, 3, 4].map((i) => place(`sim-wl-${i}`, 'water_level', { alertLevel: 0.2, dangerLevel: 0.4, baseLevel: 0, riverside: false })),
  place('sim-noise-1', 'noise', { nearSegment: bridge.id }),
];

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

  it('backfills history through the platform with the readings\' own past timestamps', async () => {
    const to = Date.now() - 3_600_000;
    const from = to - 6 * 3_600_000;
    const acknowledged = await backfillRaw({ world, placements: placements.filter((p) => p.kind === 'water_level'), open: ownSessions(stack.mqttUrl, credentials), fromMs: from, toMs: to });
    expect(acknowledged).toBe(4 * 6 * 60);
    await waitFor('the backfill in InfluxDB', async () => (await stack.count('water_level', 'currentLevel', `WHERE time >= ${from}ms AND time < ${to}ms`)) === acknowledged, 30_000);
  }, 60_000);
});
