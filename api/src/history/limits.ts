/** The size of a history answer, known before any query runs, and the advice when it is too large. */
import { badRequest } from '../errors.js';
import { alignRange, formatEvery, parseEvery, type TimeRange } from './plan.js';

const SUGGESTED_EVERY = ['1m', '5m', '15m', '1h', '6h', '1d', '7d', '30d'].map((every) => parseEvery(every));

export function pointCount(range: TimeRange, everyMs: number, series: number): number {
  return series * Math.ceil((range.to - range.from) / everyMs);
}

export interface PointLimit {
  range: TimeRange;
  everyMs: number;
  series: number;
  max: number;
  /** How else the caller could get it, e.g. a CSV export. */
  alternative?: string;
}

export function assertWithinLimit(limit: PointLimit): void {
  const points = pointCount(limit.range, limit.everyMs, limit.series);
  if (points <= limit.max) return;
  const intervals = points / limit.series;
  const larger = SUGGESTED_EVERY.filter((everyMs) => everyMs > limit.everyMs)
    .map((everyMs) => ({ everyMs, points: pointCount(alignRange(limit.range, everyMs), everyMs, limit.series) }))
    .find((candidate) => candidate.points <= limit.max);
  const advice = [
    larger ? `a larger every (every=${formatEvery(larger.everyMs)} gives ${larger.points})` : undefined,
    'a shorter range',
    limit.series > 1 ? 'fewer series' : undefined,
    limit.alternative,
  ].filter((item) => item !== undefined);
  throw badRequest(
    'too_many_points',
    `this query would return ${points} points (${limit.series} series × ${intervals} intervals of ${formatEvery(limit.everyMs)}), more than the ${limit.max} allowed; ` +
      `ask for ${advice.join(', or ')}`,
  );
}
