import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { influxQuery } from '@city/platform';
import {
  byInterval,
  DAY,
  HOUR,
  mean,
  MINUTE,
  nearestRankPercentile,
  query,
  startHistoryFixture,
  type HistoryFixture,
  type NoiseReading,
} from './fixture.js';

let fx: HistoryFixture;
let app: FastifyInstance;

beforeAll(async () => {
  fx = await startHistoryFixture('city-history-');
  app = await fx.app();
}, 90_000);

afterAll(async () => {
  await fx?.stop();
});

type Point = [number, number | null];
interface HistoryBody {
  source: string;
  approximate: boolean;
  every: string;
  from: number;
  to: number;
  unit: string | null;
  series: { key: Record<string, string>; points: Point[] }[];
}

const get = (params: Record<string, string | number>, role = 'viewer') =>
  app.inject({ url: `/api/v1/history?${query(params)}`, headers: { 'x-test-role': role } });

async function history(params: Record<string, string | number>): Promise<HistoryBody> {
  const response = await get(params);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<HistoryBody>();
}

/** The expected series: every interval from `from` (aligned) to `to` (aligned up), computed here from the readings. */
function expected<T extends { ts: number }>(readings: readonly T[], everyMs: number, from: number, to: number, aggregate: (group: T[]) => number): Point[] {
  const groups = byInterval(readings, everyMs);
  const points: Point[] = [];
  for (let time = Math.floor(from / everyMs) * everyMs; time < Math.ceil(to / everyMs) * everyMs; time += everyMs) {
    const group = groups.get(time);
    points.push([time, group ? aggregate(group) : null]);
  }
  return points;
}

function expectPoints(actual: Point[] | undefined, wanted: Point[]): void {
  expect(actual?.map(([time]) => time)).toEqual(wanted.map(([time]) => time));
  wanted.forEach(([time, value], index) => {
    const got = actual?.[index]?.[1];
    if (value === null) expect(got, `interval ${new Date(time).toISOString()}`).toBeNull();
    else expect(got, `interval ${new Date(time).toISOString()}`).toBeCloseTo(value, 6);
  });
}

const inZone = (zone: string) => fx.noise.filter((reading) => reading.zone === zone);
const levels = (group: NoiseReading[]) => group.map((reading) => reading.LAeq);

describe('GET /api/v1/history answers what the raw readings say', () => {
  for (const [label, source, wantedSource] of [
    ['from the hourly rollups (chosen)', undefined, 'rollup_1h'],
    ['from raw readings (forced)', 'raw', 'raw'],
  ] as const) {
    it(`gives each zone's hourly mean and max ${label}`, async () => {
      for (const agg of ['mean', 'max'] as const) {
        const body = await history({
          kind: 'noise',
          metric: 'LAeq',
          zone: 'hai-chau,son-tra',
          from: fx.start,
          to: fx.now,
          every: '1h',
          agg,
          ...(source ? { source } : {}),
        });
        expect(body).toMatchObject({ source: wantedSource, approximate: false, every: '1h', from: fx.start, unit: 'dB(A)' });
        expect(body.series.map((series) => series.key)).toEqual([{ zone: 'hai-chau' }, { zone: 'son-tra' }]);
        const compute = agg === 'mean' ? (group: NoiseReading[]) => mean(levels(group)) : (group: NoiseReading[]) => Math.max(...levels(group));
        expectPoints(body.series[0]?.points, expected(inZone('hai-chau'), HOUR, fx.start, fx.now, compute));
        expectPoints(body.series[1]?.points, expected(inZone('son-tra'), HOUR, fx.start, fx.now, compute));
      }
    });
  }

  it('gives 5-minute means from the 1-minute rollups, the last minutes from raw', async () => {
    const from = fx.now - 6 * HOUR - 2 * MINUTE;
    const body = await history({ kind: 'noise', metric: 'LAeq', zone: 'hai-chau', from, to: fx.now, every: '5m' });
    // from is rounded down to a whole interval, and so are the readings it covers.
    expect(body).toMatchObject({ source: 'rollup_1m', from: Math.floor(from / (5 * MINUTE)) * 5 * MINUTE });
    expectPoints(body.series[0]?.points, expected(inZone('hai-chau').filter((r) => r.ts >= body.from), 5 * MINUTE, from, fx.now, (group) => mean(levels(group))));
  });

  it('gives a device on its own, and daily intervals that join the hourly rollup with the hours still in raw', async () => {
    const device = fx.noise.filter((reading) => reading.device === 'dn-noise-3');
    const body = await history({ kind: 'noise', metric: 'LAeq', device: 'dn-noise-3', from: fx.start, to: fx.now, every: '1d', agg: 'max' });
    expect(body).toMatchObject({ source: 'rollup_1h', series: [{ key: { device: 'dn-noise-3' } }] });
    expectPoints(body.series[0]?.points, expected(device, DAY, fx.start, fx.now, (group) => Math.max(...levels(group))));

    // A daily mean from hourly rows is the mean of the device's hourly means: each hour counts once, however many readings it had.
    const hourlyMeans = (group: NoiseReading[]) => mean([...byInterval(group, HOUR).values()].map((hour) => mean(levels(hour))));
    const daily = await history({ kind: 'noise', metric: 'LAeq', device: 'dn-noise-3', from: fx.start, to: fx.now, every: '1d' });
    expectPoints(daily.series[0]?.points, expected(device, DAY, fx.start, fx.now, hourlyMeans));
  });

  it('reads a series longer than one query may return, in windows, without a gap or a seam', async () => {
    const body = await history({ kind: 'noise', metric: 'LAeq', device: 'dn-noise-1', from: fx.start, to: fx.now, every: '10s' });
    expect(body.source).toBe('raw');
    expect(body.series[0]?.points).toHaveLength((fx.now - fx.start) / 10_000);
    const readings = fx.noise.filter((reading) => reading.device === 'dn-noise-1');
    expect(body.series[0]?.points.filter(([, value]) => value !== null)).toEqual(readings.map((reading) => [reading.ts, reading.LAeq]));
  });

  it('counts readings and takes their 95th percentile on raw data', async () => {
    const count = await history({ kind: 'noise', metric: 'LAeq', zone: 'hai-chau', from: fx.start, to: fx.now, every: '1h', agg: 'count' });
    expect(count).toMatchObject({ source: 'raw', approximate: false, unit: null });
    expectPoints(count.series[0]?.points, expected(inZone('hai-chau'), HOUR, fx.start, fx.now, (group) => group.length));
    expect(count.series[0]?.points.at(-1)?.[1]).toBe(2 * 37);

    const p95 = await history({ kind: 'noise', metric: 'LAeq', zone: 'son-tra', from: fx.start, to: fx.now, every: '3h', agg: 'p95' });
    expect(p95).toMatchObject({ source: 'raw', approximate: false });
    expectPoints(p95.series[0]?.points, expected(inZone('son-tra'), 3 * HOUR, fx.start, fx.now, (group) => nearestRankPercentile(levels(group), 95)));
  });
});

describe('choosing where to read from', () => {
  it('takes the coarsest source whose interval divides every and whose retention covers from', async () => {
    const cases: [Record<string, string | number>, string, boolean][] = [
      [{ every: '1h' }, 'rollup_1h', false],
      [{ every: '1d', from: fx.now - 400 * DAY }, 'rollup_1h', false],
      [{ every: '5m' }, 'rollup_1m', false],
      [{ every: '90m' }, 'rollup_1m', false],
      [{ every: '5m', from: fx.now - 200 * DAY, to: fx.now - 199 * DAY }, 'rollup_1m', false],
      [{ every: '30s', from: fx.now - HOUR }, 'raw', false],
      [{ every: '90s', from: fx.now - 2 * HOUR }, 'raw', false],
      [{ every: '1h', agg: 'count' }, 'raw', false],
      [{ every: '1d', agg: 'p95', from: fx.now - 20 * DAY }, 'raw', false],
      [{ every: '1d', agg: 'count', from: fx.now - 40 * DAY }, 'rollup_1h', true],
      [{ every: '5m', agg: 'p95', from: fx.now - 40 * DAY, to: fx.now - 39 * DAY }, 'rollup_1m', true],
    ];
    for (const [params, source, approximate] of cases) {
      const body = await history({ kind: 'noise', metric: 'LAeq', zone: 'hai-chau', ...params });
      expect({ params, source: body.source, approximate: body.approximate }).toEqual({ params, source, approximate });
    }
  });

  it('refuses an interval finer than the data kept for that time, naming every', async () => {
    const response = await get({ kind: 'noise', metric: 'LAeq', zone: 'hai-chau', every: '1m', from: fx.now - 400 * DAY, to: fx.now - 399 * DAY });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/^every: .*multiple of 1h/) });
  });

  it('reads what the rollups hold, not raw, when it says so', async () => {
    const hour = fx.start + 5 * HOUR;
    await fx.write('rollup_1h', [`noise,device_id=dn-planted,zone=lien-chieu LAeq=99,LAeq_min=90,LAeq_max=110 ${hour}`]);
    await fx.write('rollup_1m', [`noise,device_id=dn-planted,zone=lien-chieu LAeq=77,LAeq_min=70,LAeq_max=80 ${hour + 10 * MINUTE}`]);
    const range = { kind: 'noise', metric: 'LAeq', zone: 'lien-chieu', from: hour - HOUR, to: hour + 2 * HOUR };

    const hourly = await history({ ...range, every: '1h' });
    expect(hourly.source).toBe('rollup_1h');
    expect(hourly.series[0]?.points).toEqual([[hour - HOUR, null], [hour, 99], [hour + HOUR, null]]);
    expect((await history({ ...range, every: '1h', agg: 'max' })).series[0]?.points[1]).toEqual([hour, 110]);
    expect((await history({ ...range, every: '1h', source: 'raw' })).series[0]?.points.every(([, value]) => value === null)).toBe(true);

    const minutes = await history({ ...range, from: hour, to: hour + 30 * MINUTE, every: '5m', agg: 'min' });
    expect(minutes.source).toBe('rollup_1m');
    expect(minutes.series[0]?.points.filter(([, value]) => value !== null)).toEqual([[hour + 10 * MINUTE, 70]]);
  });

  it('takes count and p95 over the rollup means, marked approximate, once raw readings are gone', async () => {
    const day = Math.floor((fx.now - 40 * DAY) / DAY) * DAY;
    await fx.write('rollup_1h', [50, 60, 70].map((level, index) => `noise,device_id=dn-old,zone=cam-le LAeq=${level},LAeq_min=${level - 5},LAeq_max=${level + 5} ${day + (10 + index) * HOUR}`));
    const range = { kind: 'noise', metric: 'LAeq', zone: 'cam-le', from: day, to: day + DAY, every: '1d' };
    expect(await history({ ...range, agg: 'count' })).toMatchObject({ source: 'rollup_1h', approximate: true, series: [{ points: [[day, 3]] }] });
    expect(await history({ ...range, agg: 'p95' })).toMatchObject({ source: 'rollup_1h', approximate: true, series: [{ points: [[day, 70]] }] });
    expect(await history({ ...range, agg: 'mean' })).toMatchObject({ source: 'rollup_1h', approximate: false, series: [{ points: [[day, 60]] }] });
  });

  it('chooses a default interval that keeps a series to a chart’s worth of points', async () => {
    expect(await history({ kind: 'noise', metric: 'LAeq', zone: 'hai-chau' })).toMatchObject({ every: '5m', source: 'rollup_1m' });
    const month = await history({ kind: 'noise', metric: 'LAeq', zone: 'hai-chau', from: fx.now - 30 * DAY, to: fx.now });
    expect(month).toMatchObject({ every: '3h', source: 'rollup_1h' });
    expect(month.series[0]?.points.length).toBeLessThanOrEqual(500);
  });
});

describe('the newest data, not rolled up yet', () => {
  it('comes from raw readings, so that the last hours are never missing', async () => {
    const hourStart = Math.floor(fx.now / HOUR) * HOUR;
    const from = hourStart - 5 * HOUR;
    const lines: string[] = [];
    for (let ts = from; ts < fx.now; ts += MINUTE) lines.push(`noise,device_id=dn-noise-tail,zone=thanh-khe LAeq=${60 + Math.floor((ts - from) / HOUR)} ${ts}`);
    await fx.write('raw', lines);
    // What the continuous queries would have finished by now: the hourly rollup up to the hour before last.
    await fx.rollUp(from, hourStart - HOUR);
    const inRollup = await influxQuery(fx.influx.url, 'city', `SELECT "LAeq" FROM "rollup_1h"."noise" WHERE "device_id" = 'dn-noise-tail'`);
    expect(inRollup.map((row) => row.time)).toEqual([from, from + HOUR, from + 2 * HOUR, from + 3 * HOUR]);

    const body = await history({ kind: 'noise', metric: 'LAeq', zone: 'thanh-khe', from, to: fx.now, every: '1h' });
    expect(body.source).toBe('rollup_1h');
    expect(body.series[0]?.points).toEqual([60, 61, 62, 63, 64, 65].map((level, index) => [from + index * HOUR, level]));
  });

  it('fills the last minute of a 1-minute series from raw', async () => {
    await fx.write('raw', [`noise,device_id=dn-noise-late,zone=cam-le LAeq=88 ${fx.now - 30_000}`]);
    const body = await history({ kind: 'noise', metric: 'LAeq', device: 'dn-noise-late', from: fx.now - 10 * MINUTE, to: fx.now, every: '1m' });
    expect(body.source).toBe('rollup_1m');
    expect(body.series[0]?.points.at(-1)).toEqual([fx.now - MINUTE, 88]);
    expect(body.series[0]?.points.slice(0, -1).every(([, value]) => value === null)).toBe(true);
  });
});

describe('road segments', () => {
  it('aggregates the sensors devicesOnSegment names, and only them', async () => {
    const onSegment = fx.traffic.filter((reading) => reading.device === 'tr-1' || reading.device === 'tr-2');
    const body = await history({ kind: 'traffic', metric: 'intensity', segment: 'nvl-1', from: fx.start, to: fx.now, every: '1h' });
    expect(body.series.map((series) => series.key)).toEqual([{ segment: 'nvl-1' }]);
    expect(body.unit).toBe('vehicles/h');
    expectPoints(body.series[0]?.points, expected(onSegment, HOUR, fx.start, fx.now, (group) => mean(group.map((reading) => reading.intensity))));

    const zone = await history({ kind: 'traffic', metric: 'intensity', zone: 'hai-chau', from: fx.start, to: fx.now, every: '1h' });
    expect(zone.series[0]?.points[0]?.[1]).not.toBeCloseTo(body.series[0]?.points[0]?.[1] ?? 0, 1);
  });

  it('answers 404 for a segment that does not exist and nulls for one without sensors', async () => {
    const missing = await get({ kind: 'traffic', metric: 'intensity', segment: 'nowhere' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'not_found', message: expect.stringContaining("segment: there is no road segment 'nowhere'") });
    const empty = await history({ kind: 'traffic', metric: 'intensity', segment: 'no-sensors', every: '1h' });
    expect(empty.series[0]?.points).toHaveLength(25);
    expect(empty.series[0]?.points.every(([, value]) => value === null)).toBe(true);
  });
});

describe('limits and validation', () => {
  it('refuses a JSON answer over the point limit, saying how many points and how to narrow it', async () => {
    const response = await get({ kind: 'noise', metric: 'LAeq', zone: 'hai-chau', from: fx.start, to: fx.now, every: '1s' });
    expect(response.statusCode).toBe(400);
    const points = (fx.now - fx.start) / 1000;
    expect(response.json()).toMatchObject({
      statusCode: 400,
      code: 'too_many_points',
      message: expect.stringContaining(`would return ${points} points (1 series × ${points} intervals of 1s), more than the 100000 allowed`),
    });
    expect(response.json().message).toMatch(/every=1m gives 2917\), or a shorter range, or a CSV export \(format=csv/);

    const small = await fx.app({ maxPoints: 60 });
    const two = await small.inject({ url: `/api/v1/history?${query({ kind: 'noise', metric: 'LAeq', zone: 'hai-chau,son-tra', from: fx.start, to: fx.now, every: '1h' })}` });
    expect(two.json()).toMatchObject({ code: 'too_many_points', message: expect.stringMatching(/98 points \(2 series × 49 intervals of 1h\).*every=6h gives \d+\).*fewer series/) });
  });

  it('names the field in every validation error', async () => {
    const base = { kind: 'noise', metric: 'LAeq', zone: 'hai-chau' };
    const cases: [Record<string, string | number>, RegExp][] = [
      [{ ...base, kind: 'weather' }, /^invalid querystring: kind must be one of traffic, /],
      [{ ...base, metric: 'LAmin' }, /^metric: 'LAmin' is not a numeric metric of noise; use one of LAeq, LAmax$/],
      [{ ...base, kind: 'traffic', metric: 'congested' }, /^metric: 'congested'/],
      [{ ...base, zone: 'hai chau' }, /^zone: 'hai chau' is not an id/],
      [{ ...base, zone: "x' OR 1=1" }, /^zone: /],
      [{ ...base, device: 'dn-noise-1' }, /^device, zone, segment: give exactly one of them \(got device and zone\)/],
      [{ kind: 'noise', metric: 'LAeq' }, /^device, zone, segment: give exactly one/],
      [{ ...base, every: '5x' }, /^every: '5x' is not an interval/],
      [{ ...base, every: '0m' }, /^every: /],
      [{ ...base, agg: 'median' }, /^invalid querystring: agg must be one of mean, min, max, count, p95$/],
      [{ ...base, from: '2025-06-01T00:00:00' }, /^from: .*with a zone/],
      [{ ...base, from: 1717200000 }, /^from: 1717200000 looks like epoch seconds/],
      [{ ...base, from: fx.now, to: fx.now - HOUR }, /^from: must be before to/],
      [{ ...base, to: 'yesterday' }, /^to: /],
      [{ ...base, every: '1m', source: 'rollup_1h' }, /^source: rollup_1h cannot answer this: its interval \(1h\) does not divide every=1m/],
      [{ ...base, from: fx.now - 40 * DAY, source: 'raw' }, /^source: raw cannot answer this: it keeps 30 days/],
      [{ ...base, zone: Array.from({ length: 21 }, (_, index) => `z${index}`).join(',') }, /^zone: at most 20 ids at once, got 21/],
    ];
    for (const [params, message] of cases) {
      const response = await get(params);
      expect({ params, status: response.statusCode }).toEqual({ params, status: 400 });
      expect(response.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'invalid_input' });
      expect(response.json().message).toMatch(message);
    }
  });

  it('accepts ISO-8601 times with a zone, including an unencoded + that arrived as a space', async () => {
    const hourStart = Math.floor(fx.now / HOUR) * HOUR;
    const local = (ms: number) => new Date(ms + 7 * HOUR).toISOString().replace(/\.000Z$/, '+07:00');
    const iso = await history({ kind: 'noise', metric: 'LAeq', zone: 'hai-chau', from: local(hourStart - 2 * HOUR), to: local(hourStart), every: '1h' });
    expect(iso).toMatchObject({ from: hourStart - 2 * HOUR, to: hourStart });
    const response = await app.inject({
      url: `/api/v1/history?kind=noise&metric=LAeq&zone=hai-chau&every=1h&from=${local(hourStart - 2 * HOUR)}&to=${local(hourStart)}`,
      headers: { 'x-test-role': 'viewer' },
    });
    expect(response.json()).toMatchObject({ from: hourStart - 2 * HOUR, to: hourStart });
  });
});

describe('performance', () => {
  it('answers 30 days of hourly means over a 40-device zone from rollup_1h in well under a second', async () => {
    const first = Math.floor((fx.now - 31 * DAY) / HOUR) * HOUR;
    const lines: string[] = [];
    for (let device = 0; device < 40; device++) {
      for (let ts = first; ts < fx.now; ts += HOUR) lines.push(`noise,device_id=nhs-${device},zone=ngu-hanh-son LAeq=${60 + (device % 7)},LAeq_min=50,LAeq_max=80 ${ts}`);
    }
    await fx.write('rollup_1h', lines);
    const params = { kind: 'noise', metric: 'LAeq', zone: 'ngu-hanh-son', from: fx.now - 30 * DAY, to: fx.now, every: '1h' };
    await history(params);
    const timings: number[] = [];
    let body: HistoryBody | undefined;
    for (let run = 0; run < 5; run++) {
      const started = performance.now();
      body = await history(params);
      timings.push(performance.now() - started);
    }
    expect(body?.source).toBe('rollup_1h');
    expect(body?.series[0]?.points).toHaveLength(30 * 24 + 1);
    expect(body?.series[0]?.points[1]?.[1]).toBeCloseTo(mean(Array.from({ length: 40 }, (_, device) => 60 + (device % 7))), 9);
    const median = [...timings].sort((a, b) => a - b)[2] as number;
    expect(median, `median of ${timings.map((ms) => ms.toFixed(1)).join(', ')} ms`).toBeLessThan(500);
  });
});
