/**
 * Measurement 6, history queries: a planner's 30-day hourly mean for one zone and a 24-hour 1-minute
 * series for one device, through the real api over HTTP, over the demo fleet's last 30 days. The
 * baseline, interleaved with them in the same run, is the hand-written InfluxQL for the same answer
 * sent straight to InfluxDB: api / baseline is what the api adds (planning, its own queries, JSON).
 */
import { startPlatform } from '@city/faults/platform-stack';
import type { Placement } from '@city/simulators/src/model/city-data.js';
import { openHistoryDb } from '../history/history-db.js';
import type { Measurement } from '../measurement.js';
import { atMost } from '../report.js';
import { round, summarize } from '../stats.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MINUTE = 60_000;
const DAYS = 30;
/** The busiest kind (a reading a minute, the most devices per zone): the heaviest planner query there is. */
const KIND = 'traffic';
const METRIC = 'intensity';
const ZONE_TARGET_MS = 300;
const DEVICE_TARGET_MS = 100;

interface Query {
  /** What the api is asked, a path with its query string. */
  api: string;
  /** The same answer in hand-written InfluxQL, the baseline. */
  influxql: string;
}

const q = (text: string) => `'${text.replace(/'/g, "\\'")}'`;

/** A window ending `endAgoMs` before now: its last interval may still be in the making, as a planner's "up to now" is. */
function zoneQuery(zone: string, now: number, endAgoMs: number): Query {
  const to = now - endAgoMs;
  const from = to - DAYS * DAY;
  return {
    api: `/api/v1/history?kind=${KIND}&metric=${METRIC}&zone=${zone}&from=${from}&to=${to}&every=1h&agg=mean`,
    influxql:
      `SELECT mean("${METRIC}") FROM "city"."rollup_1h"."${KIND}" WHERE "zone" = ${q(zone)} ` +
      `AND time >= ${Math.floor(from / HOUR) * HOUR}ms AND time < ${Math.ceil(to / HOUR) * HOUR}ms GROUP BY time(1h) fill(none)`,
  };
}

function deviceQuery(device: string, now: number, endAgoMs: number): Query {
  const to = now - endAgoMs;
  const from = to - DAY;
  return {
    api: `/api/v1/history?kind=${KIND}&metric=${METRIC}&device=${device}&from=${from}&to=${to}&every=1m&agg=mean`,
    influxql:
      `SELECT mean("${METRIC}") FROM "city"."rollup_1m"."${KIND}" WHERE "device_id" = ${q(device)} ` +
      `AND time >= ${Math.floor(from / MINUTE) * MINUTE}ms AND time < ${Math.ceil(to / MINUTE) * MINUTE}ms GROUP BY time(1m) fill(none)`,
  };
}

/** Spreads the window's end over the last day, one in four "up to now", so that no answer is served twice. */
function endAgo(index: number): number {
  return index % 4 === 0 ? 0 : ((index * 7919) % (24 * 60)) * MINUTE;
}

interface Timed {
  ms: number;
  body: string;
}

async function timed(url: string, init: RequestInit): Promise<Timed> {
  const started = performance.now();
  const response = await fetch(url, init);
  const body = await response.text();
  const ms = performance.now() - started;
  if (!response.ok) throw new Error(`${url}: ${response.status} ${body.slice(0, 300)}`);
  return { ms, body };
}

/** Intervals with a value in the api's answer (one series) and in InfluxDB's. */
const apiPoints = (body: string) =>
  ((JSON.parse(body) as { series: { points: [number, number | null][] }[] }).series[0]?.points ?? []).filter(([, value]) => value !== null).length;
const influxPoints = (body: string) =>
  ((JSON.parse(body) as { results: { series?: { values: unknown[][] }[] }[] }).results[0]?.series?.[0]?.values ?? []).length;

export const history: Measurement = {
  name: 'history',
  title: 'History queries over 30 days of the demo fleet',
  declares: [
    { name: 'history_zone_30d_hourly_p95_ms', unit: 'ms', target: `<= ${ZONE_TARGET_MS}` },
    { name: 'history_device_24h_series_p95_ms', unit: 'ms', target: `<= ${DEVICE_TARGET_MS}` },
  ],
  async run({ quick, progress, dataDir }) {
    const db = await openHistoryDb({ dataDir, days: DAYS, quick, progress });
    try {
      progress('starting the platform on it / khởi động nền tảng trên dữ liệu đó');
      const stack = await startPlatform({ env: { INFLUX_URL: db.influx.url } });
      try {
        const token = await stack.token();
        const apiInit = { headers: { authorization: `Bearer ${token}` } };
        const influxUrl = (statement: string) => `${db.influx.url}/query?${new URLSearchParams({ db: 'city', q: statement, epoch: 'ms' })}`;
        const traffic = db.placements.filter((p: Placement) => p.kind === KIND);
        const zones = [...new Set(traffic.map((p) => p.zone))].sort();
        const devices = traffic.map((p) => p.id).sort();
        const repeats = quick ? 15 : 50;

        const measure = async (label: string, build: (index: number, now: number) => Query) => {
          const api: number[] = [];
          const baseline: number[] = [];
          const mismatches: string[] = [];
          // Two of each first, uncounted: the first query of a shard loads its index from disk.
          for (let index = -2; index < repeats; index++) {
            const query = build(index + 2, Date.now());
            const viaApi = () => timed(`${stack.baseUrl}${query.api}`, apiInit);
            const direct = () => timed(influxUrl(query.influxql), {});
            // Alternating which goes first, so that neither always runs on a cache the other warmed.
            const [a, b] = index % 2 === 0 ? [await viaApi(), await direct()] : [await direct(), await viaApi()].reverse();
            const [answer, rawAnswer] = [a, b] as [Timed, Timed];
            if (index < 0) continue;
            api.push(answer.ms);
            baseline.push(rawAnswer.ms);
            const [fromApi, fromInflux] = [apiPoints(answer.body), influxPoints(rawAnswer.body)];
            if (fromApi !== fromInflux || fromApi === 0) mismatches.push(`${query.api}: api ${fromApi} intervals, InfluxDB ${fromInflux}`);
            if ((index + 1) % 10 === 0) progress(`${label}: ${index + 1}/${repeats} / đã đo ${index + 1}/${repeats}`);
          }
          const a = summarize(api);
          const b = summarize(baseline);
          return { api: roundAll(a), baseline: roundAll(b), ratioP50: round(a.p50 / b.p50, 2), ratioP95: round(a.p95 / b.p95, 2), mismatches };
        };

        progress(`zone, 30 days hourly, ${repeats} times over ${zones.length} zones / vùng, 30 ngày theo giờ`);
        const zone = await measure('zone 30d hourly', (index, now) => zoneQuery(zones[index % zones.length] as string, now, endAgo(index)));
        progress(`device, 24 hours per minute, ${repeats} times over ${devices.length} devices / thiết bị, 24 giờ theo phút`);
        const device = await measure('device 24h 1m', (index, now) => deviceQuery(devices[(index * 37) % devices.length] as string, now, endAgo(index)));

        const days = (ms: number) => (ms / DAY).toFixed(1);
        const notes = [
          `${db.shape === 'full' ? '' : 'QUICK SHAPE (no full build cached): '}${db.readings.toLocaleString('en-US')} readings of ${db.placements.length} devices over the last ${days(db.window.toMs - db.rawFromMs)} days` +
            `${db.rawFromMs > db.window.fromMs ? `, the simulator's hourly rollups for the ${days(db.rawFromMs - db.window.fromMs)} days before` : ''}, rolled up as ingest does; ` +
            `${db.cache === 'reused' ? 'copied from data/bench-cache/ and topped up to now' : 'built in this run (and cached)'} in ${db.setupSeconds.toFixed(0)} s.`,
          `Queries: ${KIND} ${METRIC}, the busiest kind; zone ${zones.join(', ')} in turn, devices spread over all ${devices.length}; window ends spread over the last day, one in four up to now.`,
          `Baseline: the same answer's InfluxQL on the rollup, sent straight to InfluxDB, interleaved with the api's; api/baseline p95 zone ${zone.ratioP95}, device ${device.ratioP95}.`,
          ...[...zone.mismatches, ...device.mismatches].slice(0, 5).map((m) => `Answers differ: ${m}`),
          ...missNote('zone 30-day hourly', zone, ZONE_TARGET_MS),
          ...missNote('device 24-hour series', device, DEVICE_TARGET_MS),
        ];
        return {
          targets: [
            atMost('history_zone_30d_hourly_p95_ms', round(zone.api.p95, 1), ZONE_TARGET_MS, 'ms'),
            atMost('history_device_24h_series_p95_ms', round(device.api.p95, 1), DEVICE_TARGET_MS, 'ms'),
          ],
          raw: { repeats, shape: db.shape, cache: db.cache, setupSeconds: round(db.setupSeconds, 1), readings: db.readings, devices: db.placements.length, zone, device },
          notes,
        };
      } finally {
        await stack.close();
      }
    } finally {
      await db.influx.stop();
    }
  },
};

/**
 * What limits a missed target, from the baseline beside it: InfluxDB itself when its own answer is about
 * as slow, the api's plan or its own work when the api takes well over what InfluxDB needs.
 */
function missNote(what: string, figures: { api: { p95: number }; baseline: { p95: number }; ratioP95: number }, targetMs: number): string[] {
  if (figures.api.p95 <= targetMs) return [];
  const limit =
    figures.ratioP95 < 1.5
      ? 'InfluxDB: the hand-written query on the rollup is about as slow, so the machine (shared, 2 cores) and InfluxDB limit it, not the api'
      : 'the api: profile it (api/src/history/plan.ts, query.ts) — it takes well over what InfluxDB needs for the same answer';
  return [`Missed ${what}: p95 ${figures.api.p95} ms against ${targetMs} ms, InfluxDB alone ${figures.baseline.p95} ms; the limit is ${limit}.`];
}

function roundAll(summary: ReturnType<typeof summarize>): ReturnType<typeof summarize> {
  return { count: summary.count, p50: round(summary.p50, 1), p95: round(summary.p95, 1), p99: round(summary.p99, 1), max: round(summary.max, 1) };
}
