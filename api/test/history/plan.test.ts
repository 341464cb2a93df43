import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { assertWithinLimit } from '../../src/history/limits.js';
import { chooseSource, formatEvery, parseEvery, parseInstant, planHistory, settledEdge, SOURCES, timeWindows } from '../../src/history/plan.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const NOW = Date.parse('2025-06-15T10:37:20.500Z');

function refusal(call: () => unknown): ApiError {
  try {
    call();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('storage sources', () => {
  it('follow the storage layout', () => {
    expect(SOURCES.raw).toMatchObject({ resolutionMs: 0, retentionMs: 30 * DAY });
    expect(SOURCES.rollup_1m).toMatchObject({ resolutionMs: MINUTE, retentionMs: 365 * DAY });
    expect(SOURCES.rollup_1h).toMatchObject({ resolutionMs: HOUR, retentionMs: Infinity });
  });

  it('trust a 1-minute row a minute after it ends, an hourly row once the next hourly run has completed it', () => {
    expect(settledEdge(SOURCES.rollup_1m, Date.parse('2025-06-15T10:37:20Z'))).toBe(Date.parse('2025-06-15T10:36:00Z'));
    expect(settledEdge(SOURCES.rollup_1m, Date.parse('2025-06-15T10:37:00Z'))).toBe(Date.parse('2025-06-15T10:36:00Z'));
    // 10:59: the 09:00 row was written at 10:00 from 1-minute rows that may have lacked 09:59; the 11:00 run completes it.
    expect(settledEdge(SOURCES.rollup_1h, Date.parse('2025-06-15T10:59:00Z'))).toBe(Date.parse('2025-06-15T09:00:00Z'));
    expect(settledEdge(SOURCES.rollup_1h, Date.parse('2025-06-15T11:00:30Z'))).toBe(Date.parse('2025-06-15T09:00:00Z'));
    expect(settledEdge(SOURCES.rollup_1h, Date.parse('2025-06-15T11:01:00Z'))).toBe(Date.parse('2025-06-15T10:00:00Z'));
    expect(settledEdge(SOURCES.raw, NOW)).toBe(Infinity);
  });
});

describe('chooseSource', () => {
  it.each([
    ['mean', '1h', NOW - DAY, 'rollup_1h', false],
    ['max', '1d', NOW - 5 * 365 * DAY, 'rollup_1h', false],
    ['min', '5m', NOW - DAY, 'rollup_1m', false],
    ['mean', '90m', NOW - DAY, 'rollup_1m', false],
    ['mean', '1m', NOW - 364 * DAY, 'rollup_1m', false],
    ['mean', '30s', NOW - DAY, 'raw', false],
    ['mean', '90s', NOW - 29 * DAY, 'raw', false],
    ['count', '1d', NOW - 29 * DAY, 'raw', false],
    ['p95', '1h', NOW - DAY, 'raw', false],
    ['count', '1h', NOW - 31 * DAY, 'rollup_1h', true],
    ['p95', '5m', NOW - 31 * DAY, 'rollup_1m', true],
  ] as const)('%s every %s from %s → %s (approximate: %s)', (agg, every, from, source, approximate) => {
    expect(chooseSource(agg, parseEvery(every), from, NOW)).toEqual({ source: SOURCES[source], approximate });
  });

  it('finds nothing for an interval finer than what is kept that far back', () => {
    expect(chooseSource('mean', parseEvery('30s'), NOW - 31 * DAY, NOW)).toBeUndefined();
    expect(chooseSource('mean', parseEvery('5m'), NOW - 366 * DAY, NOW)).toBeUndefined();
    expect(chooseSource('mean', parseEvery('90m'), NOW - 366 * DAY, NOW)).toBeUndefined();
  });

  it('takes a forced source only when it can answer', () => {
    expect(chooseSource('mean', HOUR, NOW - DAY, NOW, 'raw')).toEqual({ source: SOURCES.raw, approximate: false });
    expect(chooseSource('p95', HOUR, NOW - DAY, NOW, 'rollup_1h')).toEqual({ source: SOURCES.rollup_1h, approximate: true });
    expect(chooseSource('mean', HOUR, NOW - 31 * DAY, NOW, 'raw')).toBeUndefined();
    expect(chooseSource('mean', 5 * MINUTE, NOW - DAY, NOW, 'rollup_1h')).toBeUndefined();
  });
});

describe('planHistory', () => {
  it('rounds the range out to whole intervals and splits it where the rollup stops being complete', () => {
    const plan = planHistory({ from: '2025-06-14T10:20:00+07:00', to: String(NOW), every: '1h', agg: 'mean', now: NOW });
    expect(plan).toMatchObject({
      source: SOURCES.rollup_1h,
      approximate: false,
      every: '1h',
      everyMs: HOUR,
      from: Date.parse('2025-06-14T03:00:00Z'),
      to: Date.parse('2025-06-15T11:00:00Z'),
      edge: Date.parse('2025-06-15T09:00:00Z'),
    });
  });

  it('reads raw to the end when raw is the source', () => {
    const plan = planHistory({ from: String(NOW - HOUR), every: '10s', agg: 'mean', now: NOW });
    expect(plan).toMatchObject({ source: SOURCES.raw, edge: plan.to, to: Date.parse('2025-06-15T10:37:30Z') });
  });

  it('defaults to the last 24 hours in the smallest interval that keeps a series within 500 points', () => {
    expect(planHistory({ agg: 'mean', now: NOW })).toMatchObject({ every: '5m', from: Date.parse('2025-06-14T10:35:00Z'), source: SOURCES.rollup_1m });
    expect(planHistory({ from: String(NOW - 7 * DAY), agg: 'mean', now: NOW })).toMatchObject({ every: '30m', source: SOURCES.rollup_1m });
    expect(planHistory({ from: String(NOW - 30 * DAY), agg: 'mean', now: NOW })).toMatchObject({ every: '3h', source: SOURCES.rollup_1h });
    expect(planHistory({ from: String(NOW - 365 * DAY), agg: 'mean', now: NOW })).toMatchObject({ every: '1d', source: SOURCES.rollup_1h });
    // A few hours two years ago: 5 minutes would do for the count, but only hourly rows are kept that long.
    const old = NOW - 2 * 365 * DAY;
    expect(planHistory({ from: String(old), to: String(old + 6 * HOUR), agg: 'mean', now: NOW })).toMatchObject({ every: '1h', source: SOURCES.rollup_1h });
  });

  it('names every when no source keeps the data at that interval', () => {
    const error = refusal(() => planHistory({ from: String(NOW - 40 * DAY), every: '30s', agg: 'mean', now: NOW }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(/^every: data from 2025-05-06T10:37:00.000Z is kept at 1m intervals .*use a multiple of 1m/);
  });
});

describe('timeWindows', () => {
  it('cuts a range into consecutive windows of whole intervals, the last one shorter', () => {
    expect(timeWindows({ from: 0, to: 25 * HOUR }, HOUR, 10)).toEqual([
      { from: 0, to: 10 * HOUR },
      { from: 10 * HOUR, to: 20 * HOUR },
      { from: 20 * HOUR, to: 25 * HOUR },
    ]);
    expect(timeWindows({ from: 0, to: 3 * HOUR }, HOUR, 0.5)).toHaveLength(3);
    expect(timeWindows({ from: HOUR, to: HOUR }, HOUR, 10)).toEqual([]);
  });
});

describe('parsing', () => {
  it('takes intervals of whole seconds, minutes, hours or days', () => {
    expect([parseEvery('30s'), parseEvery('5m'), parseEvery('1h'), parseEvery('7d')]).toEqual([30_000, 5 * MINUTE, HOUR, 7 * DAY]);
    for (const bad of ['', '0m', '5', 'm', '1.5h', '1w', '-1h', '1h30m', '123456h']) expect(refusal(() => parseEvery(bad)).message).toMatch(/^every: /);
    expect([formatEvery(90 * MINUTE), formatEvery(DAY), formatEvery(36 * HOUR), formatEvery(45_000)]).toEqual(['90m', '1d', '36h', '45s']);
  });

  it('takes epoch milliseconds or ISO-8601 with a zone, and nothing ambiguous', () => {
    expect(parseInstant('from', '1749983840500')).toBe(1749983840500);
    expect(parseInstant('from', '2025-06-15T17:37:20.500+07:00')).toBe(NOW);
    expect(parseInstant('from', '2025-06-15T10:37Z')).toBe(Date.parse('2025-06-15T10:37:00Z'));
    expect(parseInstant('from', '2025-06-15T17:37:20.500 07:00')).toBe(NOW);
    expect(refusal(() => parseInstant('to', '1749983840')).message).toMatch(/^to: 1749983840 looks like epoch seconds/);
    for (const bad of ['2025-06-15T10:37:00', '2025-06-15', 'yesterday', '2025-13-45T99:00:00Z', '2025-06-15T10:37:00+0700']) {
      expect(refusal(() => parseInstant('to', bad)).message).toMatch(/^to: '.*' is not a time/);
    }
  });
});

describe('point limit', () => {
  it('passes at the limit and refuses above it with the count and a larger interval that fits', () => {
    const range = { from: 0, to: 2 * DAY };
    expect(() => assertWithinLimit({ range, everyMs: MINUTE, series: 2, max: 5760 })).not.toThrow();
    const error = refusal(() => assertWithinLimit({ range, everyMs: MINUTE, series: 2, max: 5759 }));
    expect(error).toMatchObject({ statusCode: 400, code: 'too_many_points' });
    expect(error.message).toBe(
      'this query would return 5760 points (2 series × 2880 intervals of 1m), more than the 5759 allowed; ' +
        'ask for a larger every (every=5m gives 1152), or a shorter range, or fewer series',
    );
  });
});
