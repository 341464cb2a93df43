import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { continuousQueries } from '@city/devices';
import { createLogger, startInfluxd, type LocalInfluxd, influxQuery } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import { V1Writer } from '../src/influx-writer.js';
import { toLine } from '../src/line-protocol.js';
import { ensureStorageLayout, runRollups } from '../src/storage-setup.js';

let dir: ReturnType<typeof tempDir>;
let influx: LocalInfluxd;
const logger = createLogger('test', 'silent');
const config = () => ({ INFLUX_URL: influx.url, INFLUX_DB: 'city' });

beforeAll(async () => {
  dir = tempDir('city-layout-');
  influx = await startInfluxd({ dataDir: dir.path, httpPort: 0, logger });
});

afterAll(async () => {
  await influx?.stop();
  dir?.cleanup();
});

describe('the InfluxDB layout', () => {
  it('creates the database, retention policies and continuous queries, and a second run changes nothing', async () => {
    await ensureStorageLayout(config(), logger);
    await ensureStorageLayout(config(), logger);
    const policies = await influxQuery(influx.url, 'city', 'SHOW RETENTION POLICIES ON "city"');
    expect(policies.map((row) => [row.name, row.duration, row.default])).toEqual(
      expect.arrayContaining([
        ['raw', '720h0m0s', true],
        ['rollup_1m', '8760h0m0s', false],
        ['rollup_1h', '0s', false],
      ]),
    );
    const queries = (await influxQuery(influx.url, 'city', 'SHOW CONTINUOUS QUERIES')).filter((row) => row.series === 'city');
    expect(queries.map((row) => row.name).sort()).toEqual(continuousQueries('city').map((cq) => cq.name).sort());
    expect(queries).toHaveLength(12);
  });

  it('sets up concurrently started runs without either failing', async () => {
    const twin = { INFLUX_URL: influx.url, INFLUX_DB: 'city_twin' };
    await Promise.all([ensureStorageLayout(twin, logger), ensureStorageLayout(twin, logger)]);
    expect((await influxQuery(influx.url, 'city_twin', 'SHOW CONTINUOUS QUERIES')).filter((row) => row.series === 'city_twin')).toHaveLength(12);
  });

  it('alters a retention policy whose duration, shard duration or default flag drifted', async () => {
    const drifted = { INFLUX_URL: influx.url, INFLUX_DB: 'city_drift' };
    await influxQuery(influx.url, undefined, 'CREATE DATABASE "city_drift"');
    await influxQuery(influx.url, 'city_drift', 'CREATE RETENTION POLICY "raw" ON "city_drift" DURATION 48h REPLICATION 1 SHARD DURATION 1h');
    await ensureStorageLayout(drifted, logger);
    const raw = (await influxQuery(influx.url, 'city_drift', 'SHOW RETENTION POLICIES ON "city_drift"')).find((row) => row.name === 'raw');
    expect(raw).toMatchObject({ duration: '720h0m0s', shardGroupDuration: '24h0m0s', default: true });
  });

  it('drops a continuous query whose definition is outdated', async () => {
    await influxQuery(influx.url, 'city', 'CREATE CONTINUOUS QUERY "noise_1m_00000000" ON "city" BEGIN SELECT mean("LAeq") INTO "city"."rollup_1m"."noise" FROM "city"."raw"."noise" GROUP BY time(1m), * END');
    await ensureStorageLayout(config(), logger);
    const names = (await influxQuery(influx.url, 'city', 'SHOW CONTINUOUS QUERIES')).map((row) => row.name);
    expect(names).not.toContain('noise_1m_00000000');
  });

  it('rolls up history written after the fact into 1-minute and hourly means, minima and maxima', async () => {
    const hour = 3_600_000;
    const start = Math.floor((Date.now() - 5 * hour) / hour) * hour;
    const lines = [];
    for (let minute = 0; minute < 120; minute++) {
      for (const second of [0, 30]) {
        const ts = start + minute * 60_000 + second * 1000;
        lines.push(toLine('air_quality', 'dn-aq-roll', 'hai-chau', { ts, values: { pm25: minute < 60 ? 10 + second : 50 } }));
        lines.push(toLine('parking', 'dn-park-roll', 'hai-chau', { ts, values: { occupiedSpotNumber: minute, totalSpotNumber: 200 } }));
      }
    }
    await new V1Writer({ url: influx.url, db: 'city', rp: 'raw' }).write(lines);
    await runRollups(config(), start, start + 2 * hour);

    const minutes = await influxQuery(influx.url, 'city', `SELECT "pm25", "pm25_min", "pm25_max" FROM "rollup_1m"."air_quality" WHERE time >= ${start}ms AND time < ${start + 60_000}ms`);
    expect(minutes).toEqual([expect.objectContaining({ time: start, pm25: 25, pm25_min: 10, pm25_max: 40 })]);
    const hours = await influxQuery(influx.url, 'city', `SELECT "pm25", "pm25_min", "pm25_max" FROM "rollup_1h"."air_quality" WHERE device_id = 'dn-aq-roll'`);
    expect(hours.map((row) => [row.time, row.pm25, row.pm25_min, row.pm25_max])).toEqual([
      [start, 25, 10, 40],
      [start + hour, 50, 50, 50],
    ]);
    const parking = await influxQuery(influx.url, 'city', `SELECT "occupiedSpotNumber_max", "zone" FROM "rollup_1h"."parking"`);
    expect(parking.map((row) => [row.occupiedSpotNumber_max, row.zone])).toEqual([
      [59, 'hai-chau'],
      [119, 'hai-chau'],
    ]);
    const types = await influxQuery(influx.url, 'city', 'SHOW FIELD KEYS FROM "rollup_1h"."parking"');
    expect(Object.fromEntries(types.map((row) => [row.fieldKey, row.fieldType]))).toMatchObject({
      occupiedSpotNumber: 'float',
      occupiedSpotNumber_min: 'integer',
      occupiedSpotNumber_max: 'integer',
    });
  });
});
