/**
 * The rules driven by real telemetry: devices publish over MQTT through the real broker, the api's
 * live state feeds the rule engine, and incidents are read back over HTTP and the WebSocket stream.
 * The rules file shortens durations so that minutes of city time fit in seconds of test time.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import type { MqttClient } from 'mqtt';
import { parseRulesConfig, type RulesConfig } from '../../src/rules/rules-config.js';
import { startApiStack, type ApiStack } from '../helpers/api-stack.js';
import defaults from '../../config/rules.json' with { type: 'json' };

interface Incident {
  id: string;
  type: string;
  category: string;
  subCategory?: string;
  value?: number;
  resolvedBy?: string;
  status: string;
  severity: string;
  resolution?: string;
  subject: { type: string; id: string };
  history: { action: string; actor: string; note?: string }[];
}

const dir = tempDir('city-rules-e2e-');
const rulesFile = join(dir.path, 'rules.json');
let stack: ApiStack;

beforeAll(async () => {
  const rules = structuredClone(defaults);
  Object.assign(rules.air_pollution, { forSeconds: 1, clearAfterSeconds: 2 });
  Object.assign(rules.congestion, { forSeconds: 1, clearAfterSeconds: 2 });
  Object.assign(rules.flood, { forSeconds: 0, clearAfterSeconds: 2 });
  Object.assign(rules.device_offline, { silenceIntervals: 0.05, clearAfterSeconds: 1 });
  Object.assign(rules.device_offline.burst, { windowSeconds: 0 });
  // Son Trà: accidents are critical, and its noise meters report every 20 s and matter more when silent.
  const zones: RulesConfig['zones'] = { 'son-tra': { events: { types: { accident: { severity: 'critical' } } }, device_offline: { kinds: { noise: { severity: 'high', reportingIntervalSeconds: 20 } } } } };
  Object.assign(rules, { zones });
  parseRulesConfig(rules, 'test rules');
  writeFileSync(rulesFile, JSON.stringify(rules));
  stack = await startApiStack({ RULES_FILE: rulesFile });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  dir.cleanup();
});

async function incidents(query: string): Promise<Incident[]> {
  const response = await stack.call('GET', `/api/v1/incidents?${query}`, { role: 'viewer' });
  expect(response.status).toBe(200);
  return (await response.json()) as Incident[];
}

/** Publishes `reading(i)` every `everyMs` until `untilMs` have passed or `until.done` is set. */
async function publishFor(client: MqttClient, reading: (i: number) => object, everyMs: number, untilMs: number, until = { done: false }): Promise<void> {
  const end = Date.now() + untilMs;
  for (let i = 0; Date.now() < end && !until.done; i += 1) {
    await stack.publish(client, 'telemetry', reading(i));
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * An air station whose PM2.5 has been 100 µg/m³ for two clock hours (a gateway batch brings the last one):
 * NowCast 100, VN_AQI 164. It keeps reporting until its air_pollution incident opens.
 */
async function pollutedStation(id: string): Promise<{ client: MqttClient; incident: Incident }> {
  const client = await stack.device(id, await stack.provision(id, 'air_quality', 108.2030, 16.0640));
  await stack.publish(client, 'telemetry', [{ ts: Date.now() - 3_600_000, pm25: 100 }, { pm25: 100 }]);
  const opened = { done: false };
  const polluted = publishFor(client, () => ({ pm25: 100 }), 250, 8000, opened);
  const mine = async () => (await incidents('type=air_pollution&status=open')).find((incident) => incident.subject.id === id);
  try {
    await waitFor('air pollution incident', async () => (await mine()) !== undefined, 8000);
  } finally {
    opened.done = true;
    await polluted;
  }
  const incident = await mine();
  if (!incident) throw new Error(`no air_pollution incident for ${id}`);
  expect(stack.app.services.live.devices.get(id)?.derived).toMatchObject({ aqi: 164, aqiPollutant: 'pm25' });
  return { client, incident };
}

describe('rules on live telemetry', () => {
  it('opens a congestion incident only once slow, dense traffic has lasted its duration, on the segment', async () => {
    const client = await stack.device('t-sh-1', await stack.provision('t-sh-1', 'traffic', 108.2271, 16.0720, { segment: 'cau-song-han' }));
    await stack.publish(client, 'telemetry', { intensity: 3000, averageVehicleSpeed: 6, occupancy: 0.8 });
    await waitFor('reading in live state', async () => stack.app.services.live.devices.get('t-sh-1')?.reading !== undefined, 2000);
    expect(await incidents('type=congestion')).toEqual([]);
    await publishFor(client, () => ({ intensity: 3000, averageVehicleSpeed: 6, occupancy: 0.8 }), 250, 1500);
    await waitFor('congestion incident', async () => (await incidents('type=congestion&status=open')).length === 1, 3000);
    const [incident] = await incidents('type=congestion');
    expect(incident).toMatchObject({ status: 'open', severity: 'medium', subject: { type: 'segment', id: 'cau-song-han' } });
  });

  it('opens an air-pollution incident once a station’s VN_AQI has stayed above 150, and clears it once the air is clean again', async () => {
    const { client, incident } = await pollutedStation('a-hot-1');
    expect(incident).toMatchObject({ status: 'open', severity: 'high', category: 'environment', subCategory: 'airPollution', subject: { type: 'device', id: 'a-hot-1' } });
    expect(incident.value).toBeGreaterThan(150);
    // Clean readings pull this hour's mean, and with it the NowCast, down to a VN_AQI at or below 140.
    const cleared = { done: false };
    const clean = publishFor(client, () => ({ pm25: 0 }), 250, 8000, cleared);
    try {
      await waitFor('air pollution cleared', async () => (await incidents('type=air_pollution&status=resolved')).some((entry) => entry.id === incident.id), 8000);
    } finally {
      cleared.done = true;
      await clean;
    }
    const [after] = await incidents('type=air_pollution&status=resolved');
    expect(after).toMatchObject({ id: incident.id, resolution: 'cleared' });
    expect(after?.history.at(-1)).toMatchObject({ action: 'clear', actor: 'system' });
  }, 20_000);

  it('lets an operator acknowledge and resolve an air-pollution incident while the readings go on, without it reopening', async () => {
    const { client, incident } = await pollutedStation('a-hot-2');
    const path = `/api/v1/incidents/${incident.id}`;
    expect((await stack.call('POST', `${path}/acknowledge`, { role: 'operator', body: { note: 'team on the way' } })).status).toBe(200);
    await publishFor(client, () => ({ pm25: 100 }), 250, 500);
    expect((await stack.call('POST', `${path}/resolve`, { role: 'operator', body: { note: 'source found: open burning, stopped' } })).status).toBe(200);
    // Still polluted for longer than forSeconds: an incident an operator resolved is not reopened while the condition holds.
    await publishFor(client, () => ({ pm25: 100 }), 250, 1500);
    const mine = (await incidents('type=air_pollution&limit=1000')).filter((entry) => entry.subject.id === 'a-hot-2');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ status: 'resolved', resolution: 'resolved', resolvedBy: 'test-operator' });
    expect(mine[0]?.history.map((entry) => entry.action)).toEqual(['open', 'acknowledge', 'resolve']);
  }, 20_000);

  it('keeps one incident for a flapping water sensor, escalates it, and clears it once the water has stayed down', async () => {
    const stream = await stack.stream('viewer');
    const client = await stack.device('w-flap-1', await stack.provision('w-flap-1', 'water_level', 108.2101, 16.0555, { alertLevel: 0.5, dangerLevel: 1.0 }));
    await publishFor(client, (i) => ({ currentLevel: i % 2 === 0 ? 0.62 : 0.3 }), 100, 2500);
    const flapping = await incidents('type=flood_warning');
    expect(flapping).toHaveLength(1);
    expect(flapping[0]).toMatchObject({ status: 'open', subject: { type: 'device', id: 'w-flap-1' } });
    await stream.next((message) => message.type === 'delta' && (message.incidents as Incident[]).some((incident) => incident.id === flapping[0]?.id));

    await stack.publish(client, 'telemetry', { currentLevel: 1.2 });
    await waitFor('escalated to danger', async () => (await incidents('type=flood_danger')).length === 1, 2000);
    const danger = await incidents('type=flood_danger');
    expect(danger[0]).toMatchObject({ id: flapping[0]?.id, severity: 'critical' });

    await publishFor(client, () => ({ currentLevel: 0.2 }), 250, 2500);
    await waitFor('cleared', async () => (await incidents(`status=resolved&type=flood_danger`)).length === 1, 3000);
    const [cleared] = await incidents('status=resolved&type=flood_danger');
    expect(cleared).toMatchObject({ id: flapping[0]?.id, resolution: 'cleared' });
    expect(cleared?.history.at(-1)).toMatchObject({ action: 'clear', actor: 'system' });
    await stream.next((message) => message.type === 'delta' && (message.incidents as Incident[]).some((incident) => incident.id === cleared?.id && incident.status === 'resolved'));
    expect(await incidents('type=flood_warning')).toHaveLength(0);
    stream.close();
  });

  it('opens an incident from a device event and takes it through the manual lifecycle', async () => {
    const client = await stack.device('t-cam-1', await stack.provision('t-cam-1', 'traffic', 108.2265, 16.0612, { segment: 'cau-rong', camera: true }));
    await stack.publish(client, 'events', { type: 'accident', detail: { lanesBlocked: 2 } });
    await waitFor('accident incident', async () => (await incidents('type=accident')).length === 1, 2000);
    const [accident] = await incidents('type=accident');
    expect(accident).toMatchObject({ status: 'open', severity: 'high', subject: { type: 'segment', id: 'cau-rong' } });

    const path = `/api/v1/incidents/${accident?.id}`;
    expect((await stack.call('POST', `${path}/acknowledge`, { role: 'viewer', body: {} })).status).toBe(403);
    expect((await stack.call('POST', `${path}/resolve`, { role: 'operator', body: { note: 'too early' } })).status).toBe(200);
    expect((await stack.call('POST', `${path}/acknowledge`, { role: 'operator', body: {} })).status).toBe(409);
    const done = (await (await stack.call('GET', path, { role: 'viewer' })).json()) as Incident;
    expect(done).toMatchObject({ status: 'resolved' });
    expect(done.history.map((entry) => entry.action)).toEqual(['open', 'resolve']);
  });

  it("applies a zone's overrides per kind to live telemetry: an event's severity, a noise meter's reporting interval and offline severity", async () => {
    const camera = await stack.device('t-cam-st', await stack.provision('t-cam-st', 'traffic', 108.245, 16.07, { camera: true }));
    await stack.publish(camera, 'events', { type: 'accident' });
    await waitFor('accident in Son Tra', async () => (await incidents('type=accident&zone=son-tra')).length === 1, 2000);
    expect((await incidents('type=accident&zone=son-tra'))[0]).toMatchObject({ severity: 'critical', category: 'traffic', subCategory: 'carAccident' });

    const meter = await stack.device('n-st-1', await stack.provision('n-st-1', 'noise', 108.245, 16.07));
    await stack.publish(meter, 'telemetry', { LAeq: 58, LAmax: 66 });
    await waitFor('reading in live state', async () => stack.app.services.live.devices.get('n-st-1')?.reading !== undefined, 2000);
    // 0.05 × its zone's 20 s is 1 s of silence, then the next rule tick.
    await meter.endAsync(true);
    const offline = async () => (await incidents('type=device_offline&status=open')).find((incident) => incident.subject.id === 'n-st-1');
    await waitFor('offline incident in Son Tra', async () => (await offline()) !== undefined, 12_000);
    expect(await offline()).toMatchObject({ severity: 'high', category: 'environment', zone: 'son-tra', description: expect.stringContaining('reports every 20 s') });
  }, 20_000);

  it('reports a device that went away, and clears it when it reports again', async () => {
    const secret = await stack.provision('n-quiet-1', 'noise', 108.2208, 16.0544);
    const first = await stack.device('n-quiet-1', secret);
    await stack.publish(first, 'telemetry', { LAeq: 60, LAmax: 72 });
    await waitFor('reading in live state', async () => stack.app.services.live.devices.get('n-quiet-1')?.reading !== undefined, 2000);
    // Its power fails: the broker announces it offline. 0.05 × the 60 s interval of a noise meter is 3 s, then the next rule tick (every 5 s).
    await first.endAsync(true);
    await waitFor('offline incident', async () => (await incidents('type=device_offline&status=open')).some((incident) => incident.subject.id === 'n-quiet-1'), 12_000);
    expect((await incidents('type=device_offline&status=open')).find((incident) => incident.subject.id === 'n-quiet-1')).toMatchObject({ severity: 'low', category: 'environment' });
    const client = await stack.device('n-quiet-1', secret);
    // It must keep reporting: the incident clears once it has been back for the rule's clearing time.
    const cleared = { done: false };
    const back = publishFor(client, () => ({ LAeq: 61, LAmax: 70 }), 500, 12_000, cleared);
    try {
      await waitFor('offline cleared', async () => (await incidents('type=device_offline&status=resolved')).some((incident) => incident.subject.id === 'n-quiet-1'), 12_000);
    } finally {
      cleared.done = true;
      await back;
    }
  }, 40_000);
});
