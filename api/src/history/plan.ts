/**
 * Query planning for history: which retention policy answers a request, the interval grid, and where
 * a rollup stops being complete so that the newest part of the range is read from raw instead.
 * Retentions and resolutions come from the storage layout, so a changed layout changes the plan.
 */
import { RAW_POLICY, ROLLUP_1H_POLICY, ROLLUP_1M_POLICY, ROLLUPS, type RetentionPolicy } from '@city/devices';
import { badRequest } from '../errors.js';

export const AGGREGATES = ['mean', 'min', 'max', 'count', 'p95'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

export const SOURCE_NAMES = ['raw', 'rollup_1m', 'rollup_1h'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

export interface Source {
  name: SourceName;
  /** The rollup interval; 0 for raw readings. */
  resolutionMs: number;
  /** How far back the data is kept; Infinity for ever. */
  retentionMs: number;
  /**
   * How long after an interval ends its rollup row is final. The 1-minute query runs at each minute's
   * end; the hourly one runs at the hour's end on 1-minute rows that may still lack that hour's last
   * minute, and only the next run (an hour later) completes it. A minute's grace covers the runs' own duration.
   */
  settleMs: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const UNIT_MS: Record<string, number> = { s: 1000, m: MINUTE, h: HOUR, d: DAY };

/** `720h` → ms; InfluxDB's `0s` means for ever. */
function policyDurationMs(policy: RetentionPolicy): number {
  const ms = durationMs(policy.duration);
  return ms === 0 ? Infinity : (ms ?? Infinity);
}

function rollupInterval(into: RetentionPolicy): number {
  const interval = ROLLUPS.find((rollup) => rollup.into === into)?.interval;
  const ms = interval === undefined ? undefined : durationMs(interval);
  if (!ms) throw new Error(`the storage layout has no rollup into ${into.name}`);
  return ms;
}

export const SOURCES: Record<SourceName, Source> = {
  raw: { name: 'raw', resolutionMs: 0, retentionMs: policyDurationMs(RAW_POLICY), settleMs: 0 },
  rollup_1m: { name: 'rollup_1m', resolutionMs: rollupInterval(ROLLUP_1M_POLICY), retentionMs: policyDurationMs(ROLLUP_1M_POLICY), settleMs: MINUTE },
  rollup_1h: {
    name: 'rollup_1h',
    resolutionMs: rollupInterval(ROLLUP_1H_POLICY),
    retentionMs: policyDurationMs(ROLLUP_1H_POLICY),
    settleMs: rollupInterval(ROLLUP_1H_POLICY) + MINUTE,
  },
};

/** Coarsest first: the first one that fits answers with the fewest rows read. */
const BY_COARSENESS = [SOURCES.rollup_1h, SOURCES.rollup_1m, SOURCES.raw];

/** `5m` → 300000; undefined when it is not a duration of whole s, m, h or d. */
export function durationMs(text: string): number | undefined {
  let total = 0;
  let rest = text;
  while (rest.length > 0) {
    const match = /^(\d+)(ms|s|m|h|d)/.exec(rest);
    if (!match) return undefined;
    total += Number(match[1]) * (match[2] === 'ms' ? 1 : (UNIT_MS[match[2] as string] as number));
    rest = rest.slice(match[0].length);
  }
  return text.length > 0 ? total : undefined;
}

export function parseEvery(text: string): number {
  const match = /^([1-9]\d{0,4})([smhd])$/.exec(text);
  if (!match) throw badRequest('invalid_input', `every: '${text}' is not an interval; give a whole number and s, m, h or d, e.g. 5m, 1h, 1d`);
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/** `1h`, `90m`, `36h`: the largest unit that divides it. */
export function formatEvery(ms: number): string {
  for (const [unit, size] of [['d', DAY], ['h', HOUR], ['m', MINUTE]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms / 1000}s`;
}

// Before 1973 in epoch ms, which no reading can be; in epoch seconds it is any date until the year 5138.
const EPOCH_SECONDS_BELOW = 100_000_000_000;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms, or ISO-8601 with a zone (`Z`, `+07:00`). */
export function parseInstant(field: string, text: string): number {
  if (/^\d{1,15}$/.test(text)) {
    const ms = Number(text);
    if (ms < EPOCH_SECONDS_BELOW) throw badRequest('invalid_input', `${field}: ${text} looks like epoch seconds; give epoch milliseconds or ISO-8601`);
    return ms;
  }
  // An unencoded `+` in a query string arrives as a space: `…T07:00:00 07:00` meant `+07:00`.
  const iso = text.replace(/ (\d{2}:\d{2})$/, '+$1');
  const ms = ISO_WITH_ZONE.test(iso) ? Date.parse(iso) : NaN;
  if (Number.isNaN(ms)) {
    throw badRequest('invalid_input', `${field}: '${text}' is not a time; give epoch milliseconds or ISO-8601 with a zone, e.g. 2025-06-01T07:00:00+07:00`);
  }
  return ms;
}

export interface TimeRange {
  from: number;
  to: number;
}

/** The requested range, last 24 hours by default. */
export function requestedRange(from: string | undefined, to: string | undefined, now: number): TimeRange {
  const end = to === undefined ? now : parseInstant('to', to);
  const start = from === undefined ? end - DAY : parseInstant('from', from);
  if (start >= end) throw badRequest('invalid_input', `from: must be before to (${new Date(start).toISOString()} ≥ ${new Date(end).toISOString()})`);
  return { from: start, to: end };
}

/** Whole intervals: from rounded down, to rounded up, on the grid InfluxDB's GROUP BY time() uses (epoch-aligned). */
export function alignRange(range: TimeRange, everyMs: number): TimeRange {
  return { from: Math.floor(range.from / everyMs) * everyMs, to: Math.ceil(range.to / everyMs) * everyMs };
}

/** Consecutive windows of the range, each of at most `intervals` whole intervals. */
export function timeWindows(range: TimeRange, everyMs: number, intervals: number): TimeRange[] {
  const span = Math.max(1, Math.floor(intervals)) * everyMs;
  const windows: TimeRange[] = [];
  for (let from = range.from; from < range.to; from += span) windows.push({ from, to: Math.min(range.to, from + span) });
  return windows;
}

/**
 * Where `source` stops being complete at `now`: its rows before this are final, the rest of the range
 * is read from raw. Raw is complete up to now.
 */
export function settledEdge(source: Source, now: number): number {
  if (source.resolutionMs === 0) return Infinity;
  return Math.floor((now - source.settleMs) / source.resolutionMs) * source.resolutionMs;
}

const covers = (source: Source, from: number, now: number) => from >= now - source.retentionMs;
const fitsEvery = (source: Source, everyMs: number) => source.resolutionMs === 0 || everyMs % source.resolutionMs === 0;

/** count and p95 need every reading; on a rollup they can only be taken over its means. */
const needsRaw = (agg: Aggregate) => agg === 'count' || agg === 'p95';

export interface SourceChoice {
  source: Source;
  approximate: boolean;
}

/**
 * The coarsest source whose interval divides `every` and whose retention still covers `from`. count
 * and p95 read raw while it covers `from`, else the coarsest rollup's means, marked approximate.
 */
export function chooseSource(agg: Aggregate, everyMs: number, from: number, now: number, forced?: SourceName): SourceChoice | undefined {
  const usable = (source: Source) => covers(source, from, now) && fitsEvery(source, everyMs);
  if (forced !== undefined) {
    const source = SOURCES[forced];
    return usable(source) ? { source, approximate: needsRaw(agg) && source !== SOURCES.raw } : undefined;
  }
  if (needsRaw(agg) && usable(SOURCES.raw)) return { source: SOURCES.raw, approximate: false };
  const source = BY_COARSENESS.find(usable);
  return source && { source, approximate: needsRaw(agg) && source !== SOURCES.raw };
}

export interface HistoryPlan extends TimeRange, SourceChoice {
  every: string;
  everyMs: number;
  /** [from, edge) is read from the source; [edge, to) from raw, rolled up on the fly to the source's interval. */
  edge: number;
}

export interface PlanRequest {
  from?: string | undefined;
  to?: string | undefined;
  every?: string | undefined;
  agg: Aggregate;
  source?: SourceName | undefined;
  now: number;
}

/** What the default `every` aims at: a chart's worth of points per series. */
export const DEFAULT_POINTS_PER_SERIES = 500;
const EVERY_LADDER = ['1m', '5m', '15m', '30m', '1h', '3h', '6h', '12h', '1d', '7d', '30d'].map((every) => parseEvery(every));

export function planHistory(request: PlanRequest): HistoryPlan {
  const requested = requestedRange(request.from, request.to, request.now);
  const everyMs = request.every === undefined ? defaultEvery(requested, request) : parseEvery(request.every);
  const range = alignRange(requested, everyMs);
  const choice = chooseSource(request.agg, everyMs, range.from, request.now, request.source);
  if (!choice) throw noSourceError(request, everyMs, range.from);
  return {
    ...range,
    ...choice,
    every: request.every ?? formatEvery(everyMs),
    everyMs,
    edge: Math.max(range.from, Math.min(range.to, settledEdge(choice.source, request.now))),
  };
}

/** The smallest step of the ladder that keeps a series within a chart's worth of points and that some source can answer. */
function defaultEvery(requested: TimeRange, request: PlanRequest): number {
  const fits = (everyMs: number) => {
    const range = alignRange(requested, everyMs);
    return (range.to - range.from) / everyMs <= DEFAULT_POINTS_PER_SERIES && chooseSource(request.agg, everyMs, range.from, request.now, request.source);
  };
  return EVERY_LADDER.find(fits) ?? (EVERY_LADDER.at(-1) as number);
}

function noSourceError(request: PlanRequest, everyMs: number, from: number) {
  const since = new Date(from).toISOString();
  if (request.source !== undefined) {
    const source = SOURCES[request.source];
    const reason = !covers(source, from, request.now)
      ? `it keeps ${formatRetention(source)} and from is ${since}`
      : `its interval (${formatEvery(source.resolutionMs)}) does not divide every=${formatEvery(everyMs)}`;
    return badRequest('invalid_input', `source: ${source.name} cannot answer this: ${reason}; leave source out to let the api choose`);
  }
  const kept = BY_COARSENESS.filter((source) => covers(source, from, request.now)).at(-1) ?? SOURCES.rollup_1h;
  return badRequest(
    'invalid_input',
    `every: data from ${since} is kept at ${formatEvery(kept.resolutionMs)} intervals (raw readings ${formatRetention(SOURCES.raw)}, 1-minute rollups ${formatRetention(SOURCES.rollup_1m)}); ` +
      `use a multiple of ${formatEvery(kept.resolutionMs)} for every, or a later from`,
  );
}

function formatRetention(source: Source): string {
  return source.retentionMs === Infinity ? 'for ever' : `${Math.round(source.retentionMs / DAY)} days`;
}
