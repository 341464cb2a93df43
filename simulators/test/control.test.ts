/**
 * The path `npm run sim -- --scenario <name>` takes: the CLI asks the running fleet's control port,
 * which triggers the scenario on the live city. Also what the CLI says when it cannot.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { DeviceRegistry } from '@city/devices';
import { createLogger, waitFor } from '@city/platform';
import { freePort } from '@city/platform/testing';
import { startStack, type Stack } from '../../ingest/test/helpers/stack.js';
import { SimClock } from '../src/clock.js';
import { askFleet, startControlServer, type ControlServer } from '../src/control.js';
import { provisionFleet } from '../src/credentials.js';
import { LiveFleet } from '../src/live-fleet.js';
import { emptyOverlay } from '../src/model/scenarios.js';
import type { World } from '../src/model/sensors.js';
import { runScenario } from '../src/scenario-runner.js';
import { bridge, placements } from './helpers/fixtures.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const logger = createLogger('test', 'silent');
const world: World = { seed: 5, segments: new Map([[bridge.id, bridge]]), overlay: emptyOverlay() };
let stack: Stack;
let fleet: LiveFleet;
let control: ControlServer;

beforeAll(async () => {
  stack = await startStack();
  const registry = DeviceRegistry.open(join(stack.dataDir, 'registry.db'));
  const credentials = await provisionFleet(registry, placements, join(stack.dataDir, 'fleet', 'credentials.json'));
  registry.close();
  const clock = new SimClock(1, Date.now());
  fleet = new LiveFleet({ url: stack.mqttUrl, world, clock, placements, credentials, logger });
  control = await startControlServer(0, {
    scenario: (name) => runScenario(name, clock.now(), world, placements, fleet, logger),
    backfill: () => undefined,
    status: () => ({ devices: fleet.size }),
  });
  await fleet.start();
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
  await control?.close();
  await stack?.close();
});

/** `npm run sim -- <args>` against the control port given, in English first. */
function sim(args: string[], controlPort: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'simulators/src/sim.ts', ...args],
      { cwd: root, env: { ...process.env, DATA_DIR: stack.dataDir, MQTT_URL: stack.mqttUrl, SIM_CONTROL_PORT: String(controlPort), CITY_LANG: 'en', LOG_LEVEL: 'warn' }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run sim -- --scenario', () => {
  it('triggers the scenario on the running fleet: the accident is on the bridge and its camera reports it', async () => {
    const watcher = await mqtt.connectAsync(stack.mqttUrl, { clientId: 'service:test-control', username: 'service:test', password: stack.serviceSecret, reconnectPeriod: 0 });
    const events: string[] = [];
    watcher.on('message', (topic) => events.push(topic));
    await watcher.subscribeAsync('devices/+/events', { qos: 1 });
    const { code, stdout } = await sim(['--scenario', 'accident'], control.port);
    expect(code).toBe(0);
    expect(JSON.parse(stdout.trim().split('\n').at(-1) as string)).toMatchObject({ scenario: 'accident', devices: ['sim-cam-1'], detail: { segment: bridge.id } });
    expect(world.overlay.accidents.map((accident) => accident.segment)).toEqual([bridge.id]);
    await waitFor('the camera\'s accident event', () => events.includes('devices/sim-cam-1/events'));
    await watcher.endAsync();
  }, 60_000);

  it('refuses an unknown scenario with the list of known ones, in both languages, and exits 1 without touching the city', async () => {
    const scenariosBefore = world.overlay.accidents.length + world.overlay.storms.length + world.overlay.pollution.length + world.overlay.silent.size + world.overlay.garbage.size;
    const { code, stderr } = await sim(['--scenario', 'meteor'], control.port);
    expect(code).toBe(1);
    expect(stderr).toContain('Unknown scenario "meteor". Scenarios: accident, flood, pollution, silent, garbage.');
    expect(stderr).toContain('Không có kịch bản "meteor"');
    expect(world.overlay.accidents.length + world.overlay.storms.length + world.overlay.pollution.length + world.overlay.silent.size + world.overlay.garbage.size).toBe(scenariosBefore);
    await expect(askFleet(control.port, '/scenarios/meteor')).rejects.toThrow(/unknown scenario meteor; one of accident/);
  }, 60_000);

  it('says no fleet is running, in both languages, and exits 1 when nothing answers on the control port', async () => {
    const { code, stderr } = await sim(['--scenario', 'flood'], await freePort());
    expect(code).toBe(1);
    expect(stderr).toContain('No demo fleet answers: start the platform with npm start (DEMO_FLEET=on) first.');
    expect(stderr).toContain('Không có đội thiết bị mô phỏng nào trả lời');
  }, 60_000);
});

describe('npm run sim -- --speed 60 while a fleet runs', () => {
  it('refuses to start a second fleet and says how to run one, in both languages, exit 1', async () => {
    const { code, stderr } = await sim(['--speed', '60'], control.port);
    expect(code).toBe(1);
    expect(stderr).toContain('A demo fleet is already running');
    expect(stderr).toContain('DEMO_FLEET=off');
    expect(stderr).toContain('Một đội thiết bị mô phỏng đang chạy');
  }, 60_000);
});
