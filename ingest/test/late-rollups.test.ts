/**
 * Readings written too late for the continuous queries — old timestamps from a device or gateway, or a
 * spool replayed after an outage — end up in rollup_1m and rollup_1h all the same.
 */
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, waitFor } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import type { DeviceKind } from '@city/devices';
import { startStack, type Stack } from './helpers/stack.js';
import { connectDevice } from './helpers/publish.js';
import { coalesceHours, LateRollups, type HourRange } from '../src/late-rollups.js';
import { createIngestMetrics } from '../src/metrics.js';
import { toLine } from '../src/line-protocol.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let stack: Stack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** Two readings a minute, so that an hour's mean of minute means is its mean over the raw points. */
function readings(fromMs: number, minutes: number, seed: number) {
  return Array.from({ length: minutes * 2 }, (_, i) => ({
    ts: fromMs + i * 30_000,
    intensity: 100 + ((i * 37 + seed) % 500),
    averageVehicleSpeed: 20 + (i % 7),
    occupancy: 0.3,
  }));
}

async function rolledUp(current: Stack, expectedRaw: number): Promise<void> {
  await waitFor('the readings in raw', async () => (await current.count('traffic', 'intensity')) === expectedRaw, 30_000);
  // Both are counted only after the write returned, and so after its late readings were noted.
  await waitFor(
    'ingest done with the writes',
    async () => (await current.ingestMetric('ingest_points_written_total')) >= expectedRaw && (await current.ingestMetric('ingest_spool_records')) === 0,
    30_000,
  );
  await waitFor(
    'the late hours rolled up',
    async () => (await current.ingestMetric('ingest_late_rollups_total')) > 0 && (await current.ingestMetric('ingest_late_rollup_pending_hours')) === 0,
    60_000,
  );
}

/** Compares a rollup with the same aggregate computed over the raw points: one row per device and interval, same mean, min and max. */
async function expectRollupMatchesRaw(current: Stack, policy: 'rollup_1m' | 'rollup_1h', fromMs: number, toMs: number): Promise<void> {
  const range = `time >= ${fromMs}ms AND time < ${toMs}ms`;
  const raw = await current.query(
    `SELECT mean("intensity") AS "mean", min("intensity") AS "min", max("intensity") AS "max", count("intensity") AS "count" FROM "raw"."traffic" WHERE ${range} GROUP BY time(${policy === 'rollup_1m' ? '1m' : '1h'}), "device_id" fill(none)`,
  );
  const rollup = await current.query(`SELECT "intensity", "intensity_min", "intensity_max" FROM "${policy}"."traffic" WHERE ${range} GROUP BY "device_id"`);
  const key = (row: Record<string, unknown>) => `${String(row.device_id)}@${String(row.time)}`;
  const rolled = new Map(rollup.map((row) => [key(row), row]));
  expect(raw.length).toBeGreaterThan(0);
  expect(rolled.size).toBe(raw.length);
  for (const row of raw) {
    const match = rolled.get(key(row));
    expect(match, key(row)).toBeDefined();
    expect(match?.intensity as number).toBeCloseTo(row.mean as number, 9);
    expect([match?.intensity_min, match?.intensity_max]).toEqual([row.min, row.max]);
  }
}

describe('late readings in the rollups', () => {
  it('rolls up a gateway batch hours old and single readings older than the 1-minute window', async () => {
    const current = (stack = await startStack({ LATE_ROLLUP_INTERVAL_MS: '200', LOG_LEVEL: 'info' }));
    await current.startIngest();
    const gateway = await current.provision('dn-tr-late-gw', 'traffic');
    const single = await current.provision('dn-tr-late-one', 'traffic');
    const hoursAgo = Math.floor((Date.now() - 5 * HOUR) / HOUR) * HOUR;
    const minutesAgo = Math.floor((Date.now() - 40 * MINUTE) / MINUTE) * MINUTE;

    const gatewayClient = await connectDevice(current.mqttUrl, gateway.id, gateway.secret);
    await gatewayClient.publishAsync(`devices/${gateway.id}/telemetry`, JSON.stringify(readings(hoursAgo, 120, 1)), { qos: 1 });
    const singleClient = await connectDevice(current.mqttUrl, single.id, single.secret);
    const recent = readings(minutesAgo, 15, 2);
    for (const reading of recent) await singleClient.publishAsync(`devices/${single.id}/telemetry`, JSON.stringify(reading), { qos: 1 });
    await Promise.all([gatewayClient.endAsync(), singleClient.endAsync()]);

    await rolledUp(current, 240 + recent.length);
    const end = Math.ceil(Date.now() / HOUR) * HOUR;
    await expectRollupMatchesRaw(current, 'rollup_1m', hoursAgo, end);
    await expectRollupMatchesRaw(current, 'rollup_1h', hoursAgo, end);
    expect(current.ingestLogs()).toContain('rolled up late readings');
  }, 120_000);

  it('rolls up readings replayed from the spool after an outage', async () => {
    const current = (stack = await startStack({ LATE_ROLLUP_INTERVAL_MS: '200' }));
    await current.startIngest();
    const device = await current.provision('dn-tr-late-spool', 'traffic');
    const from = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;

    await current.influx.stop();
    const client = await connectDevice(current.mqttUrl, device.id, device.secret);
    await client.publishAsync(`devices/${device.id}/telemetry`, JSON.stringify(readings(from, 90, 3)), { qos: 1 });
    await client.endAsync();
    await waitFor('the batch in the spool', async () => (await current.ingestMetric('ingest_spool_records')) > 0, 30_000);
    await current.influx.restart();

    await rolledUp(current, 180);
    await expectRollupMatchesRaw(current, 'rollup_1m', from, from + 2 * HOUR);
    await expectRollupMatchesRaw(current, 'rollup_1h', from, from + 2 * HOUR);
  }, 120_000);

  it('coalesces noted hours into runs of consecutive hours, oldest first, within the budget', () => {
    const hours = [5, 1, 2, 3, 8, 9].map((hour) => hour * HOUR);
    expect(coalesceHours(hours, 10)).toEqual([
      { fromMs: 1 * HOUR, toMs: 4 * HOUR },
      { fromMs: 5 * HOUR, toMs: 6 * HOUR },
      { fromMs: 8 * HOUR, toMs: 10 * HOUR },
    ]);
    expect(coalesceHours(hours, 4)).toEqual([
      { fromMs: 1 * HOUR, toMs: 4 * HOUR },
      { fromMs: 5 * HOUR, toMs: 6 * HOUR },
    ]);
  });

  it('remembers the noted hours across a restart, works through them within the budget and keeps those that failed', async () => {
    const dir = tempDir('city-late-');
    try {
      const stateFile = join(dir.path, 'late-rollups.json');
      const runs: [DeviceKind, HourRange][] = [];
      let failing = false;
      const open = () => {
        const metrics = createIngestMetrics(new Registry());
        const late = new LateRollups({
          stateFile,
          intervalMs: 60_000,
          maxHoursPerTick: 2,
          logger: createLogger('test', 'silent'),
          metrics,
          rollUp: async (kind, range) => {
            if (failing) throw new Error('InfluxDB is away');
            runs.push([kind, range]);
          },
        });
        return { late, pending: async () => (await metrics.lateRollupPendingHours.get()).values[0]?.value };
      };
      const now = Date.now();
      const hour = Math.floor((now - 5 * HOUR) / HOUR) * HOUR;
      const line = (kind: DeviceKind, ts: number) =>
        kind === 'noise' ? toLine(kind, 'dn-n', 'hai-chau', { ts, values: { LAeq: 50, LAmax: 60 } }) : toLine(kind, 'dn-t', 'hai-chau', { ts, values: { intensity: 1, averageVehicleSpeed: 2, occupancy: 0.1 } });

      const first = open();
      // A batch said to hold nothing older than the cutoff is not read at all.
      first.late.noteWritten([line('traffic', hour + MINUTE)], now, now);
      expect(await first.pending()).toBe(0);
      first.late.noteWritten([line('traffic', hour + MINUTE), line('traffic', hour + HOUR + MINUTE), line('traffic', hour + 3 * HOUR), line('noise', hour), line('traffic', now)], now);
      expect(await first.pending()).toBe(4);

      const second = open();
      expect(await second.pending()).toBe(4);
      failing = true;
      await second.late.tick();
      expect(await second.pending()).toBe(4);
      failing = false;
      await second.late.tick();
      expect(runs).toEqual([['traffic', { fromMs: hour, toMs: hour + 2 * HOUR }]]);
      await second.late.tick();
      await second.late.tick();
      expect(runs.slice(1)).toEqual([
        ['traffic', { fromMs: hour + 3 * HOUR, toMs: hour + 4 * HOUR }],
        ['noise', { fromMs: hour, toMs: hour + HOUR }],
      ]);
      expect(await open().pending()).toBe(0);
    } finally {
      dir.cleanup();
    }
  });
});
