import { DEVICE_KINDS, numericMetrics } from '@city/devices';
import { ensureStorageLayout, runRollups } from '@city/ingest/storage-setup';
import { createLogger, influxQuery, startInfluxd, type LocalInfluxd, type Row } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import { loadCityData } from '@city/simulators/src/model/city-data.js';
import { emptyOverlay } from '@city/simulators/src/model/scenarios.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readingsIn, writeFleetHistory } from '../src/history/fleet-history.js';

const HOUR = 3_600_000;
const logger = createLogger('test', 'silent');
const dir = tempDir('bench-fleet-history-');
let influx: LocalInfluxd;

const city = loadCityData();
// Two devices of every kind: every reporting interval, integer and optional metrics among them.
const placements = DEVICE_KINDS.flatMap((kind) => city.placements.filter((p) => p.kind === kind).slice(0, 2));
const world = { seed: 2025, segments: city.segments, overlay: emptyOverlay() };
const window = { fromMs: Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR, toMs: Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR };

beforeAll(async () => {
  influx = await startInfluxd({ dataDir: dir.path, httpPort: 0, logger });
}, 60_000);
afterAll(async () => {
  await influx?.stop();
  dir.cleanup();
});

const rows = (db: string, rp: string, kind: string) =>
  influxQuery(influx.url, db, `SELECT * FROM "${db}"."${rp}"."${kind}" WHERE time >= ${window.fromMs - HOUR}ms GROUP BY "device_id"`);

function byKey(list: Row[]): Map<string, Row> {
  return new Map(list.map((row) => [`${String(row.device_id)}@${String(row.time)}`, row]));
}

describe('the bench’s fleet history', () => {
  it('writes every reading and the same rollups as ingest’s runRollups computes from them', async () => {
    const storage = { INFLUX_URL: influx.url, INFLUX_DB: 'city' };
    const written = await writeFleetHistory({ storage, world, placements, ...window, logger });
    expect(written).toBe(readingsIn(placements, window));

    // The same readings in a second database, rolled up there by ingest's own range rollups.
    const check = { INFLUX_URL: influx.url, INFLUX_DB: 'check' };
    await ensureStorageLayout(check, logger);
    for (const kind of DEVICE_KINDS) {
      await influxQuery(influx.url, 'check', `SELECT * INTO "check"."raw"."${kind}" FROM "city"."raw"."${kind}" WHERE time >= ${window.fromMs}ms GROUP BY *`);
    }
    await runRollups(check, window.fromMs, window.toMs);

    for (const kind of DEVICE_KINDS) {
      for (const rp of ['rollup_1m', 'rollup_1h']) {
        const ours = byKey(await rows('city', rp, kind));
        const ingests = byKey(await rows('check', rp, kind));
        expect([...ours.keys()].sort(), `${rp}.${kind}`).toEqual([...ingests.keys()].sort());
        expect(ours.size).toBeGreaterThan(0);
        for (const [key, row] of ingests) {
          for (const metric of numericMetrics(kind)) {
            for (const field of [metric, `${metric}_min`, `${metric}_max`]) {
              const expected = row[field];
              if (typeof expected === 'number') expect(ours.get(key)?.[field], `${rp}.${kind} ${key} ${field}`).toBeCloseTo(expected, 6);
              else expect(ours.get(key)?.[field] ?? null, `${rp}.${kind} ${key} ${field}`).toBe(expected ?? null);
            }
          }
        }
      }
    }
  }, 120_000);
});
