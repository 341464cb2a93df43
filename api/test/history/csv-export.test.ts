import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvChunks, csvWindows } from '../../src/history/csv.js';
import { planHistory, type TimeRange } from '../../src/history/plan.js';
import { readSeries } from '../../src/history/query.js';
import { seriesKeys, type SeriesKey } from '../../src/history/series-keys.js';
import { HOUR, MINUTE, query, startHistoryFixture, type HistoryFixture } from './fixture.js';

let fx: HistoryFixture;
let app: FastifyInstance;

beforeAll(async () => {
  fx = await startHistoryFixture('city-history-csv-');
  app = await fx.app();
}, 90_000);

afterAll(async () => {
  await fx?.stop();
});

const twoZones = () => ({ kind: 'noise', metric: 'LAeq', zone: 'hai-chau,son-tra', from: fx.start, to: fx.now, every: '1h' });
const exportAs = (role: string | undefined, params: Record<string, string | number>, accept?: string) =>
  app.inject({ url: `/api/v1/history?${query(params)}`, headers: { ...(role ? { 'x-test-role': role } : {}), ...(accept ? { accept } : {}) } });

/** The rows the JSON answer holds, as the CSV export should write them. */
async function jsonAsRows(params: Record<string, string | number>): Promise<string[]> {
  const response = await exportAs('viewer', { ...params, format: 'json' });
  const body = response.json<{ series: { key: Record<string, string>; points: [number, number | null][] }[] }>();
  const rows: string[] = [];
  const intervals = body.series[0]?.points.length ?? 0;
  for (let index = 0; index < intervals; index++) {
    for (const series of body.series) {
      const [time, value] = series.points[index] as [number, number | null];
      rows.push(`${new Date(time).toISOString()},${Object.values(series.key)[0]},${value ?? ''}`);
    }
  }
  return rows;
}

describe('GET /api/v1/history as CSV', () => {
  it('gives a planner the series as CSV, header and rows matching the JSON answer', async () => {
    const response = await exportAs('planner', { ...twoZones(), format: 'csv' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toMatch(/^attachment; filename="history_noise_LAeq_mean_2-zones_\d{8}T\d{4}Z-\d{8}T\d{4}Z\.csv"$/);
    const [header, ...rows] = response.body.trimEnd().split('\n');
    expect(header).toBe('time,zone,LAeq_mean');
    expect(rows).toHaveLength(2 * 49);
    expect(rows.slice(0, 2)).toEqual([
      expect.stringMatching(new RegExp(`^${new Date(fx.start).toISOString()},hai-chau,\\d+(\\.\\d+)?$`)),
      expect.stringMatching(new RegExp(`^${new Date(fx.start).toISOString()},son-tra,\\d+(\\.\\d+)?$`)),
    ]);
    expect(rows).toEqual(await jsonAsRows(twoZones()));
  });

  it('answers Accept: text/csv with CSV, and names the device column for a device', async () => {
    const params = { kind: 'noise', metric: 'LAeq', device: 'dn-noise-1', every: '1h', agg: 'max' };
    const response = await exportAs('admin', params, 'text/csv');
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.body.split('\n')[0]).toBe('time,device,LAeq_max');
    expect(response.body.trimEnd().split('\n').slice(1)).toEqual(await jsonAsRows(params));
    expect((await exportAs('admin', params, 'application/json, text/csv')).headers['content-type']).toMatch(/^application\/json/);
  });

  it('refuses a viewer, an operator and an anonymous caller with 403 in the shared error shape', async () => {
    for (const role of ['viewer', 'operator', undefined]) {
      for (const [params, accept] of [[{ ...twoZones(), format: 'csv' }, undefined], [twoZones(), 'text/csv']] as const) {
        const response = await exportAs(role, params, accept);
        expect(response.statusCode).toBe(403);
        expect(response.json()).toEqual({
          statusCode: 403,
          error: 'Forbidden',
          code: 'forbidden',
          message: `exporting history as CSV needs the planner role; you are ${role ?? 'not logged in'}`,
        });
      }
    }
    expect((await exportAs('viewer', twoZones())).statusCode).toBe(200);
  });

  it('allows more rows than a JSON answer, up to its own limit', async () => {
    const minutes = { kind: 'noise', metric: 'LAeq', zone: 'hai-chau', from: fx.start, to: fx.now, every: '1m' };
    const capped = await fx.app({ maxPoints: 1000, maxCsvRows: 5000 });
    const call = (params: Record<string, string | number>) => capped.inject({ url: `/api/v1/history?${query(params)}`, headers: { 'x-test-role': 'planner' } });
    expect((await call(minutes)).json()).toMatchObject({ code: 'too_many_points' });
    const csv = await call({ ...minutes, format: 'csv' });
    expect(csv.statusCode).toBe(200);
    expect(csv.body.trimEnd().split('\n')).toHaveLength(1 + (fx.now - fx.start) / MINUTE);
    const tooMany = await call({ ...minutes, zone: 'hai-chau,son-tra', format: 'csv' });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json()).toMatchObject({ code: 'too_many_points', message: expect.stringContaining('more than the 5000 allowed') });
  });

  it('streams over HTTP: chunked, without a length known in advance', async () => {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const response = await fetch(`${address}/api/v1/history?${query({ ...twoZones(), every: '1m', format: 'csv' })}`, { headers: { 'x-test-role': 'planner' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    expect(response.headers.get('content-length')).toBeNull();
    const lines = (await response.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 2 * ((fx.now - fx.start) / MINUTE));
  });
});

describe('the CSV stream', () => {
  it('cuts the range into windows of whole intervals within the points per query', () => {
    const keys = [{ name: 'zone', id: 'a', condition: undefined }, { name: 'zone', id: 'b', condition: undefined }] satisfies SeriesKey[];
    const windows = csvWindows({ range: { from: 0, to: 100 * MINUTE }, everyMs: MINUTE, keys, windowPoints: 30 });
    expect(windows).toHaveLength(7);
    expect(windows[0]).toEqual({ from: 0, to: 15 * MINUTE });
    expect(windows.at(-1)).toEqual({ from: 90 * MINUTE, to: 100 * MINUTE });
  });

  it('reads window by window as it is consumed, one ahead, and writes the same rows as one query would', async () => {
    const plan = planHistory({ from: String(fx.start), to: String(fx.now), every: '5m', agg: 'mean', now: fx.now });
    const keys = seriesKeys({ zone: 'hai-chau,son-tra' }, () => undefined);
    const reads: TimeRange[] = [];
    const chunks = csvChunks({
      range: plan,
      everyMs: plan.everyMs,
      keys,
      valueColumn: 'LAeq_mean',
      windowPoints: 100,
      read: (key, window) => {
        reads.push(window);
        return readSeries({ url: fx.influx.url }, { database: 'city', kind: 'noise', metric: 'LAeq', agg: 'mean', source: plan.source, edge: plan.edge, range: window, condition: key.condition, everyMs: plan.everyMs });
      },
    });
    const windows = Math.ceil((plan.to - plan.from) / (50 * plan.everyMs));
    expect(windows).toBeGreaterThan(10);

    const first = await chunks.next();
    expect(first.done).toBe(false);
    expect(reads).toHaveLength(2 * keys.length);
    let text = first.value as string;
    for await (const chunk of chunks) text += chunk;
    expect(reads).toHaveLength(windows * keys.length);
    expect(text.trimEnd().split('\n').slice(1)).toEqual(
      await jsonAsRows({ kind: 'noise', metric: 'LAeq', zone: 'hai-chau,son-tra', from: fx.start, to: fx.now, every: '5m' }),
    );
    expect(plan.edge).toBeLessThan(plan.to);
    expect(plan.to - plan.from).toBeGreaterThan(2 * 24 * HOUR);
  });
});
