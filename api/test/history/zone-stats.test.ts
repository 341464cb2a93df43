import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byInterval, HOUR, mean, MINUTE, query, startHistoryFixture, type HistoryFixture, type NoiseReading } from './fixture.js';

let fx: HistoryFixture;
let app: FastifyInstance;

beforeAll(async () => {
  fx = await startHistoryFixture('city-zone-stats-');
  app = await fx.app();
}, 90_000);

afterAll(async () => {
  await fx?.stop();
});

interface ZoneStats {
  from: number;
  to: number;
  threshold: number | null;
  unit: string | null;
  zones: { zone: string; mean: number | null; min: number | null; max: number | null; devices: number; hoursAbove: number | null }[];
}

async function stats(params: Record<string, string | number>): Promise<ZoneStats> {
  const response = await app.inject({ url: `/api/v1/stats/zones?${query(params)}`, headers: { 'x-test-role': 'viewer' } });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<ZoneStats>();
}

/**
 * By hand, from the readings: a zone's mean is over its devices' hourly means (what the hourly rollup
 * holds), an hour counts above the threshold when the mean of its devices' hourly means exceeds it.
 */
function byHand(zone: string, metric: 'LAeq' | 'LAmax', from: number, to: number, threshold: number | undefined) {
  const readings = fx.noise.filter((reading) => reading.zone === zone && reading.ts >= from && reading.ts < to);
  const value = (reading: NoiseReading) => reading[metric];
  const devices = [...new Set(readings.map((reading) => reading.device))];
  const deviceHours = devices.map((device) =>
    [...byInterval(readings.filter((reading) => reading.device === device), HOUR).entries()].map(([hour, group]) => ({ hour, mean: mean(group.map(value)) })),
  );
  const hourly = new Map<number, number[]>();
  for (const { hour, mean: level } of deviceHours.flat()) hourly.set(hour, [...(hourly.get(hour) ?? []), level]);
  return {
    zone,
    mean: mean(deviceHours.flat().map((deviceHour) => deviceHour.mean)),
    min: Math.min(...readings.map(value)),
    max: Math.max(...readings.map(value)),
    devices: devices.length,
    hoursAbove: threshold === undefined ? null : [...hourly.values()].filter((levels) => mean(levels) > threshold).length,
  };
}

function expectZone(actual: ZoneStats['zones'][number] | undefined, wanted: ReturnType<typeof byHand>): void {
  expect(actual).toMatchObject({ zone: wanted.zone, devices: wanted.devices, hoursAbove: wanted.hoursAbove, min: wanted.min, max: wanted.max });
  expect(actual?.mean).toBeCloseTo(wanted.mean, 9);
}

describe('GET /api/v1/stats/zones', () => {
  it('summarises each zone over the range, counting hours above the default LAeq threshold of 70 dB(A)', async () => {
    const body = await stats({ kind: 'noise', metric: 'LAeq', from: fx.start, to: fx.now });
    expect(body).toMatchObject({ from: fx.start, to: Math.ceil(fx.now / HOUR) * HOUR, threshold: 70, unit: 'dB(A)' });
    expect(body.zones.map((zone) => zone.zone)).toEqual(['hai-chau', 'son-tra']);
    const haiChau = byHand('hai-chau', 'LAeq', fx.start, fx.now, 70);
    expect(haiChau.hoursAbove).toBeGreaterThan(0);
    expect(haiChau.hoursAbove).toBeLessThan(48);
    expectZone(body.zones[0], haiChau);
    expectZone(body.zones[1], byHand('son-tra', 'LAeq', fx.start, fx.now, 70));
  });

  it('takes a threshold from the request, and gives none for a metric without a default', async () => {
    const from = fx.start + 6 * HOUR;
    const to = fx.start + 30 * HOUR;
    const custom = await stats({ kind: 'noise', metric: 'LAeq', from, to, threshold: 62.5 });
    expect(custom.threshold).toBe(62.5);
    expectZone(custom.zones[0], byHand('hai-chau', 'LAeq', from, to, 62.5));
    expectZone(custom.zones[1], byHand('son-tra', 'LAeq', from, to, 62.5));

    const loudest = await stats({ kind: 'noise', metric: 'LAmax', from, to });
    expect(loudest.threshold).toBeNull();
    expectZone(loudest.zones[0], byHand('hai-chau', 'LAmax', from, to, undefined));
  });

  it('counts the hours not rolled up yet, from raw readings', async () => {
    const hourStart = Math.floor(fx.now / HOUR) * HOUR;
    const lines: string[] = [];
    for (let ts = hourStart; ts < fx.now; ts += MINUTE) lines.push(`noise,device_id=dn-fresh,zone=cam-le LAeq=75 ${ts}`);
    await fx.write('raw', lines);
    const body = await stats({ kind: 'noise', metric: 'LAeq', from: hourStart - 3 * HOUR, to: fx.now });
    expect(body.zones.find((zone) => zone.zone === 'cam-le')).toEqual({ zone: 'cam-le', mean: 75, min: 75, max: 75, devices: 1, hoursAbove: 1 });
  });

  it('refuses a metric that is not numeric, naming it', async () => {
    const response = await app.inject({ url: `/api/v1/stats/zones?${query({ kind: 'streetlight', metric: 'powerState' })}`, headers: { 'x-test-role': 'viewer' } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/^metric: 'powerState' is not a numeric metric of streetlight/) });
  });
});
