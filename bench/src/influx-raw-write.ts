/**
 * The physical ceiling of ingest: points written to InfluxDB as prebuilt line protocol over HTTP, with no MQTT,
 * validation or batching in between — the same database, retention policy, batch size and number of concurrent
 * writes as ingest uses, the same kinds of readings in the same line format.
 */
import { KINDS, type DeviceKind, type Reading } from '@city/devices';
import { toLine } from '@city/ingest/line-protocol';
import { influxQuery } from '@city/platform';
import { kindFor, readingFor } from '@city/simulators/src/load/payloads.js';

export interface RawWriteOptions {
  influxUrl: string;
  db: string;
  rp: string;
  points: number;
  /** Devices the points are spread over (`raw-<kind>-<n>`), as many as the load's connections. */
  devices: number;
  batchLines: number;
  writers: number;
}

export interface RawWriteResult {
  points: number;
  seconds: number;
  pointsPerS: number;
  stored: number;
}

/** Builds every batch first, so that only the writes are timed. */
function buildBatches(options: RawWriteOptions, firstTs: number): string[] {
  const batches: string[] = [];
  let lines: string[] = [];
  for (let n = 0; n < options.points; n++) {
    const device = n % options.devices;
    const kind = kindFor('mixed', device);
    // Each device's timestamps step by 1 ms, so that every point is its own.
    const ts = firstTs + Math.floor(n / options.devices);
    const values = readingFor(kind, ts, n);
    delete values.ts;
    lines.push(toLine(kind, `raw-${kind}-${device}`, 'raw-zone', { ts, values } satisfies Reading));
    if (lines.length === options.batchLines) {
      batches.push(lines.join('\n'));
      lines = [];
    }
  }
  if (lines.length > 0) batches.push(lines.join('\n'));
  return batches;
}

export async function writeRawBaseline(options: RawWriteOptions): Promise<RawWriteResult> {
  // Within the raw retention and in the past, like the readings ingest has just written.
  const batches = buildBatches(options, Date.now() - 30 * 60_000);
  const endpoint = new URL('/write', options.influxUrl);
  endpoint.search = new URLSearchParams({ db: options.db, rp: options.rp, precision: 'ms' }).toString();
  let next = 0;
  const writer = async () => {
    while (next < batches.length) {
      const body = batches[next++] as string;
      const response = await fetch(endpoint, { method: 'POST', body, headers: { 'content-type': 'text/plain; charset=utf-8' } });
      if (response.status !== 204) throw new Error(`raw write refused: ${response.status} ${await response.text()}`);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: options.writers }, writer));
  const seconds = (performance.now() - started) / 1000;
  const stored = await countPoints(options.influxUrl, options.db, options.rp, 'raw-');
  return { points: options.points, seconds, pointsPerS: options.points / seconds, stored };
}

/** One field every reading of a kind carries, to count its points by. */
const COUNTED_FIELD: Record<DeviceKind, string> = {
  traffic: 'intensity',
  air_quality: 'pm25',
  noise: 'LAeq',
  water_level: 'currentLevel',
  parking: 'occupiedSpotNumber',
  streetlight: 'powerConsumption',
};

/** Points of devices whose id starts with `prefix`, over every kind. */
export async function countPoints(influxUrl: string, db: string, rp: string, prefix: string): Promise<number> {
  let total = 0;
  for (const kind of Object.keys(KINDS) as DeviceKind[]) {
    const rows = await influxQuery(influxUrl, db, `SELECT count("${COUNTED_FIELD[kind]}") FROM "${rp}"."${kind}" WHERE device_id =~ /^${prefix}/`, 120_000);
    total += Number(rows[0]?.count ?? 0);
  }
  return total;
}
