/**
 * `npm run sim`: the Da Nang demo fleet (the default, and what `npm start` runs), a scenario trigger
 * (`--scenario <name>`) or a history backfill (`--backfill <days>`).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEVICE_KINDS, DeviceRegistry, KINDS } from '@city/devices';
import { V1Writer } from '@city/ingest/influx-writer';
import { influxQuery } from '@city/platform';
import { runRollups } from '@city/ingest/storage-setup';
import { createLogger, onShutdown, waitFor } from '@city/platform';
import { backfillHourly, backfillRaw, historyWindows, MAX_RAW_DAYS, ownSessions, type DeviceSession } from './backfill.js';
import { SimClock } from './clock.js';
import { readSimConfig } from './config.js';
import { askFleet, startControlServer } from './control.js';
import { provisionFleet } from './credentials.js';
import { LiveFleet } from './live-fleet.js';
import { bilingual, helpText, messages } from './messages.js';
import { loadCityData, type Placement } from './model/city-data.js';
import { emptyOverlay, SCENARIO_NAMES, type ScenarioName } from './model/scenarios.js';
import type { World } from './model/sensors.js';
import { progressLine } from './progress.js';
import { runScenario } from './scenario-runner.js';

const DAY = 86_400_000;
const { values } = parseArgs({
  options: {
    scenario: { type: 'string' },
    speed: { type: 'string' },
    start: { type: 'string' },
    seed: { type: 'string' },
    backfill: { type: 'string' },
    history: { type: 'string' },
    help: { type: 'boolean' },
  },
});
const text = messages();
if (values.help) {
  process.stdout.write(helpText());
  process.exit(0);
}

const config = readSimConfig();
const logger = createLogger('simulator');

function fail(message: string): never {
  process.stderr.write(message);
  process.exit(1);
}

if (values.scenario !== undefined) {
  if (!SCENARIO_NAMES.includes(values.scenario as ScenarioName)) fail(bilingual((m) => m.unknownScenario(values.scenario as string)));
  const outcome = await askFleet(config.SIM_CONTROL_PORT, `/scenarios/${values.scenario}`).catch((error: Error) => fail(`${error.message}\n`));
  if (!outcome) fail(bilingual((m) => m.noFleet));
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  process.exit(0);
}

if (values.backfill !== undefined) {
  // A running fleet holds the devices' connections: it writes the history itself rather than being kicked off.
  const accepted = await askFleet(config.SIM_CONTROL_PORT, `/backfill?days=${Number(values.backfill)}&months=${Number(values.history ?? 0)}`);
  if (accepted) {
    process.stderr.write(`${text.backfillDelegated}\n`);
    process.exit(0);
  }
}

const speed = Number(values.speed ?? config.DEMO_SPEED);
const seed = Number(values.seed ?? config.SIM_SEED);
if (!(speed >= 1) || !Number.isSafeInteger(seed)) {
  process.stderr.write(helpText());
  process.exit(2);
}

// A second fleet would connect the same devices and knock the running one's connections off, over and over.
if (await askFleet(config.SIM_CONTROL_PORT, '/status', 'GET')) fail(bilingual((m) => m.fleetRunning(config.SIM_CONTROL_PORT)));

const city = loadCityData();
const world: World = { seed, segments: city.segments, overlay: emptyOverlay() };
const registry = DeviceRegistry.open(join(config.DATA_DIR, 'registry.db'));
const reportProvisioning = progressLine(text.provisioning);
const credentials = await provisionFleet(registry, city.placements, join(config.DATA_DIR, 'fleet', 'credentials.json'), (done) =>
  reportProvisioning(done, city.placements.length),
);
registry.close();

const influxWriter = (rp: string) => new V1Writer({ url: config.INFLUX_URL, db: config.INFLUX_DB, rp });

/** History up to `until`, where the live fleet's clock began (see historyWindows). */
async function backfill(days: number, months: number, open: (placement: Placement) => Promise<DeviceSession>, until = Date.now()): Promise<void> {
  const now = Date.now();
  const { raw, hourly } = historyWindows(days, months, now, until);
  let published = 0;
  if (days > 0) {
    const rawProgress = progressLine(text.backfillRaw);
    published = await backfillRaw({ world, placements: city.placements, open, ...raw, onProgress: (p) => rawProgress(p.done, p.total) });
  }
  if (months > 0) {
    const hourlyProgress = progressLine(text.backfillHourly);
    const writer = influxWriter('rollup_1h');
    await backfillHourly({ world, placements: city.placements, ...hourly, write: (lines) => writer.write(lines), onProgress: (p) => hourlyProgress(p.done, p.total) });
  }
  if (days > 0) {
    // The broker acknowledged every reading; the rollup runs once ingest has stored them all.
    const storedProgress = progressLine(text.backfillStored);
    await waitFor('the backfill to be stored', async () => {
      const stored = await storedBetween(raw.fromMs, raw.toMs);
      storedProgress(stored, published);
      return stored >= published;
    }, 30 * 60_000, 1000);
    await runRollups({ INFLUX_URL: config.INFLUX_URL, INFLUX_DB: config.INFLUX_DB }, raw.fromMs, now);
  }
}

/** Readings stored in the raw window, counted on each kind's first required metric. */
async function storedBetween(fromMs: number, toMs: number): Promise<number> {
  let total = 0;
  for (const kind of DEVICE_KINDS) {
    const metric = Object.entries(KINDS[kind].metrics).find(([, spec]) => spec.required)?.[0] ?? Object.keys(KINDS[kind].metrics)[0];
    const rows = await influxQuery(config.INFLUX_URL, config.INFLUX_DB, `SELECT count("${metric}") FROM "raw"."${kind}" WHERE time >= ${fromMs}ms AND time < ${toMs}ms`);
    total += Number(rows[0]?.count ?? 0);
  }
  return total;
}

if (values.backfill !== undefined) {
  const days = Number(values.backfill);
  const months = Number(values.history ?? 0);
  if (!(days >= 0 && days <= MAX_RAW_DAYS) || !(months >= 0)) {
    process.stderr.write(helpText());
    process.exit(2);
  }
  await backfill(days, months, ownSessions(config.mqttUrl, credentials));
  process.exit(0);
}

const start = values.start ? Date.parse(values.start) : speed > 1 ? Date.now() - DAY : Date.now();
const clock = new SimClock(speed, start);
const fleet = new LiveFleet({ url: config.mqttUrl, world, clock, placements: city.placements, credentials, logger });
const fleetSessions = async (placement: Placement) => fleet.session(placement.id);
const control = await startControlServer(config.SIM_CONTROL_PORT, {
  scenario: (name) => runScenario(name, clock.now(), world, city.placements, fleet, logger),
  backfill: (days, months) => {
    backfill(days, months, fleetSessions, start).then(
      () => logger.info({ days, months }, 'history written'),
      (error: Error) => logger.error({ err: error.message }, 'history backfill failed'),
    );
  },
  status: () => ({ devices: fleet.size, simulatedTime: new Date(clock.now()).toISOString(), speed, ...fleet.stats() }),
}).catch((error: NodeJS.ErrnoException) => {
  if (error.code !== 'EADDRINUSE') throw error;
  return fail(bilingual((m) => m.controlPortBusy(config.SIM_CONTROL_PORT)));
});
await fleet.start();
logger.info({ devices: fleet.size, speed, seed, controlPort: control.port }, text.running);

const marker = join(config.DATA_DIR, 'fleet', 'history-written');
if (!existsSync(marker) && (config.DEMO_BACKFILL_DAYS > 0 || config.DEMO_HISTORY_MONTHS > 0)) {
  backfill(config.DEMO_BACKFILL_DAYS, config.DEMO_HISTORY_MONTHS, fleetSessions, start).then(
    () => {
      mkdirSync(join(config.DATA_DIR, 'fleet'), { recursive: true });
      writeFileSync(marker, new Date().toISOString());
      logger.info({ days: config.DEMO_BACKFILL_DAYS, months: config.DEMO_HISTORY_MONTHS }, 'history written');
    },
    (error: Error) => logger.error({ err: error.message }, 'history backfill failed; it runs again at the next start'),
  );
}

onShutdown(logger, async () => {
  await Promise.all([fleet.stop(), control.close()]);
});
