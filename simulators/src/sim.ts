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
import { backfillHourly, backfillRaw, MAX_RAW_DAYS, ownSessions, type DeviceSession } from './backfill.js';
import { SimClock } from './clock.js';
import { readSimConfig } from './config.js';
import { askFleet, startControlServer } from './control.js';
import { provisionFleet } from './credentials.js';
import { LiveFleet } from './live-fleet.js';
import { helpText, messages } from './messages.js';
import { loadCityData, type Placement } from './model/city-data.js';
import { emptyOverlay } from './model/scenarios.js';
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

if (values.scenario) {
  const outcome = await askFleet(config.SIM_CONTROL_PORT, `/scenarios/${encodeURIComponent(values.scenario)}`).catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
  if (!outcome) {
    process.stderr.write(`${text.noFleet}\n`);
    process.exit(1);
  }
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

const speed = Number(values.speed ?? 1);
const seed = Number(values.seed ?? config.SIM_SEED);
if (!(speed >= 1) || !Number.isSafeInteger(seed)) {
  process.stderr.write(helpText());
  process.exit(2);
}

const city = loadCityData();
const world: World = { seed, segments: city.segments, overlay: emptyOverlay() };
const registry = DeviceRegistry.open(join(config.DATA_DIR, 'registry.db'));
const reportProvisioning = progressLine(text.provisioning);
const credentials = await provisionFleet(registry, city.placements, join(config.DATA_DIR, 'fleet', 'credentials.json'), (done) =>
  reportProvisioning(done, city.placements.length),
);
registry.close();

const influxWriter = (rp: string) => new V1Writer({ url: config.INFLUX_URL, db: config.INFLUX_DB, rp });

async function backfill(days: number, months: number, open: (placement: Placement) => Promise<DeviceSession>): Promise<void> {
  const now = Date.now();
  const rawFrom = now - Math.min(days, MAX_RAW_DAYS) * DAY;
  const rawProgress = progressLine(text.backfillRaw);
  const rawTo = now - 60_000;
  let published = 0;
  if (days > 0) {
    published = await backfillRaw({ world, placements: city.placements, open, fromMs: rawFrom, toMs: rawTo, onProgress: (p) => rawProgress(p.done, p.total) });
  }
  if (months > 0) {
    const hourlyProgress = progressLine(text.backfillHourly);
    const writer = influxWriter('rollup_1h');
    await backfillHourly({ world, placements: city.placements, fromMs: rawFrom - months * 30 * DAY, toMs: rawFrom, write: (lines) => writer.write(lines), onProgress: (p) => hourlyProgress(p.done, p.total) });
  }
  if (days > 0) {
    // The broker acknowledged every reading; the rollup runs once ingest has stored them all.
    const storedProgress = progressLine(text.backfillStored);
    await waitFor('the backfill to be stored', async () => {
      const stored = await storedBetween(rawFrom, rawTo);
      storedProgress(stored, published);
      return stored >= published;
    }, 30 * 60_000, 1000);
    await runRollups({ INFLUX_URL: config.INFLUX_URL, INFLUX_DB: config.INFLUX_DB }, rawFrom, now);
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
await fleet.start();
const fleetSessions = async (placement: Placement) => fleet.session(placement.id);
const control = await startControlServer(config.SIM_CONTROL_PORT, {
  scenario: (name) => runScenario(name, clock.now(), world, city.placements, fleet, logger),
  backfill: (days, months) => {
    backfill(days, months, fleetSessions).then(
      () => logger.info({ days, months }, 'history written'),
      (error: Error) => logger.error({ err: error.message }, 'history backfill failed'),
    );
  },
  status: () => ({ devices: fleet.size, simulatedTime: new Date(clock.now()).toISOString(), speed, ...fleet.stats() }),
});
logger.info({ devices: fleet.size, speed, seed, controlPort: control.port }, text.running);

const marker = join(config.DATA_DIR, 'fleet', 'history-written');
if (!existsSync(marker) && (config.DEMO_BACKFILL_DAYS > 0 || config.DEMO_HISTORY_MONTHS > 0)) {
  backfill(config.DEMO_BACKFILL_DAYS, config.DEMO_HISTORY_MONTHS, fleetSessions).then(
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
