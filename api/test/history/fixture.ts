/**
 * A real InfluxDB with the platform's layout and known readings, and the history routes on a test app.
 * The continuous queries are dropped: the rollups hold exactly what each test rolls up, so that data
 * "not rolled up yet" stays so while a test runs. `now` is pinned 37 minutes into an hour that has
 * already begun, so that the current hour has readings whatever the wall clock says.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createLogger, influxQuery, startInfluxd, type LocalInfluxd } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import { ensureStorageLayout, runRollups } from '@city/ingest/storage-setup';
import { isRole } from '../../src/auth/roles.js';
import { installErrorHandler } from '../../src/errors.js';
import { historyRoutes, type HistoryDeps } from '../../src/history/routes.js';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export interface NoiseReading {
  device: string;
  zone: string;
  ts: number;
  LAeq: number;
  LAmax: number;
}

export interface TrafficReading {
  device: string;
  zone: string;
  ts: number;
  intensity: number;
}

/** dn-noise-1 and dn-noise-2 stand in hai-chau, dn-noise-3 in son-tra. */
export const NOISE_DEVICES = [
  { device: 'dn-noise-1', zone: 'hai-chau' },
  { device: 'dn-noise-2', zone: 'hai-chau' },
  { device: 'dn-noise-3', zone: 'son-tra' },
] as const;

/** tr-1 and tr-2 on segment nvl-1, tr-3 on nvl-2, all in hai-chau. */
export const TRAFFIC_DEVICES = [
  { device: 'tr-1', zone: 'hai-chau' },
  { device: 'tr-2', zone: 'hai-chau' },
  { device: 'tr-3', zone: 'hai-chau' },
] as const;
export const SEGMENTS: Record<string, string[]> = { 'nvl-1': ['tr-1', 'tr-2'], 'nvl-2': ['tr-3'], 'no-sensors': [] };

export interface HistoryFixture {
  influx: LocalInfluxd;
  /** The pinned present. */
  now: number;
  /** The first reading (two days before the current hour). */
  start: number;
  noise: NoiseReading[];
  traffic: TrafficReading[];
  write(rp: 'raw' | 'rollup_1m' | 'rollup_1h', lines: string[]): Promise<void>;
  rollUp(from: number, to: number): Promise<void>;
  /** The routes on an app whose caller has the role in `x-test-role` (none: not logged in). */
  app(deps?: Partial<HistoryDeps>): Promise<FastifyInstance>;
  stop(): Promise<void>;
}

const logger = createLogger('test', 'silent');

/** A noisy but reproducible level with a daily swing, in tenths of a dB. */
function level(deviceIndex: number, minute: number): number {
  const hourOfDay = Math.floor(minute / 60) % 24;
  const swing = Math.round(120 * Math.sin((2 * Math.PI * hourOfDay) / 24));
  return (550 + swing + ((minute * 37 + deviceIndex * 101) % 200)) / 10;
}

export async function startHistoryFixture(prefix: string): Promise<HistoryFixture> {
  const dir = tempDir(prefix);
  const influx = await startInfluxd({ dataDir: dir.path, httpPort: 0, logger });
  const config = { INFLUX_URL: influx.url, INFLUX_DB: 'city' };
  await ensureStorageLayout(config, logger);
  for (const row of await influxQuery(influx.url, 'city', 'SHOW CONTINUOUS QUERIES')) {
    if (row.series === 'city') await influxQuery(influx.url, 'city', `DROP CONTINUOUS QUERY "${String(row.name)}" ON "city"`);
  }

  const currentHour = Math.floor(Date.now() / HOUR) * HOUR;
  const now = currentHour - HOUR + 37 * MINUTE;
  const start = Math.floor(now / HOUR) * HOUR - 2 * DAY;

  const write = async (rp: string, lines: string[]) => {
    for (let index = 0; index < lines.length; index += 20_000) {
      const response = await fetch(`${influx.url}/write?db=city&rp=${rp}&precision=ms`, { method: 'POST', body: lines.slice(index, index + 20_000).join('\n') });
      if (response.status !== 204) throw new Error(`write to ${rp} answered ${response.status}: ${await response.text()}`);
    }
  };

  const noise: NoiseReading[] = [];
  const traffic: TrafficReading[] = [];
  for (let ts = start; ts < now; ts += MINUTE) {
    const minute = (ts - start) / MINUTE;
    NOISE_DEVICES.forEach(({ device, zone }, index) => {
      const LAeq = level(index, minute);
      noise.push({ device, zone, ts, LAeq, LAmax: LAeq + 10 });
    });
    TRAFFIC_DEVICES.forEach(({ device, zone }, index) => traffic.push({ device, zone, ts, intensity: 400 + index * 300 + ((minute * 13) % 50) }));
  }
  await write('raw', [
    ...noise.map((r) => `noise,device_id=${r.device},zone=${r.zone} LAeq=${r.LAeq},LAmax=${r.LAmax} ${r.ts}`),
    ...traffic.map((r) => `traffic,device_id=${r.device},zone=${r.zone} intensity=${r.intensity},averageVehicleSpeed=40,occupancy=0.2 ${r.ts}`),
  ]);
  const rollUp = (from: number, to: number) => runRollups(config, from, to);
  await rollUp(start, now);

  const apps: FastifyInstance[] = [];
  return {
    influx,
    now,
    start,
    noise,
    traffic,
    write,
    rollUp,
    async app(deps = {}) {
      const app = Fastify();
      installErrorHandler(app);
      app.decorateRequest('user', null);
      app.addHook('onRequest', async (request) => {
        const role = request.headers['x-test-role'];
        request.user = isRole(role) ? { username: `test-${role}`, role } : null;
      });
      await app.register(
        historyRoutes({ influx: { url: influx.url }, database: 'city', devicesOnSegment: (id) => SEGMENTS[id], now: () => now, ...deps }),
      );
      await app.ready();
      apps.push(app);
      return app;
    },
    async stop() {
      await Promise.all(apps.map((app) => app.close()));
      await influx.stop();
      dir.cleanup();
    },
  };
}

/** Readings per interval start, e.g. per hour. */
export function byInterval<T extends { ts: number }>(readings: readonly T[], everyMs: number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const reading of readings) {
    const interval = Math.floor(reading.ts / everyMs) * everyMs;
    const group = groups.get(interval);
    if (group) group.push(reading);
    else groups.set(interval, [reading]);
  }
  return groups;
}

export const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/** InfluxDB's percentile(): the value at rank round(N × p / 100) of the sorted values. */
export function nearestRankPercentile(values: readonly number[], percent: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length * percent) / 100 + 0.5) - 1] as number;
}

export function query(params: Record<string, string | number>): string {
  return new URLSearchParams(Object.entries(params).map(([key, value]): [string, string] => [key, String(value)])).toString();
}
