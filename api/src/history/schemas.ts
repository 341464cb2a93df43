/** Request and response schemas of the history routes (TypeBox, also the OpenAPI description). */
import { Type } from '@sinclair/typebox';
import { DEVICE_KINDS } from '@city/devices';
import { AGGREGATES, SOURCE_NAMES } from './plan.js';
import { MAX_SERIES } from './series-keys.js';

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((value) => Type.Literal(value)));

const Kind = literals(DEVICE_KINDS);
const Metric = Type.String({ maxLength: 64, description: 'A numeric metric of the kind, e.g. pm25, LAeq, intensity, currentLevel' });
const Instant = (what: string) =>
  Type.String({ maxLength: 40, description: `${what}: epoch milliseconds or ISO-8601 with a zone, e.g. 2025-06-01T07:00:00+07:00` });
const Ids = (what: string) =>
  Type.String({ maxLength: MAX_SERIES * 65, description: `${what} id, or up to ${MAX_SERIES} comma-separated (one series each)` });

export const HistoryQuery = Type.Object({
  kind: Kind,
  metric: Metric,
  device: Type.Optional(Ids('A device')),
  zone: Type.Optional(Ids('A zone (all devices of the kind in it, together)')),
  segment: Type.Optional(Ids('A road segment (the traffic sensors on it, together)')),
  from: Type.Optional(Instant('Start, rounded down to a whole interval; default 24 hours before to')),
  to: Type.Optional(Instant('End, rounded up to a whole interval; default now')),
  every: Type.Optional(
    Type.String({ maxLength: 8, description: 'Interval, e.g. 1m, 5m, 1h, 1d (epoch-aligned, UTC); default: the smallest giving at most 500 points' }),
  ),
  agg: Type.Optional(
    Type.Union(
      AGGREGATES.map((agg) => Type.Literal(agg)),
      { description: 'Per interval: mean (default), min, max, count of readings, or p95 (nearest-rank 95th percentile, as InfluxDB’s percentile())' },
    ),
  ),
  source: Type.Optional(
    Type.Union(
      SOURCE_NAMES.map((name) => Type.Literal(name)),
      { description: 'Force a retention policy instead of letting the api choose; refused when it cannot answer the range or interval' },
    ),
  ),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')], { description: 'csv (also Accept: text/csv) needs the planner role' })),
});

/** `nullable` rather than anyOf, which fast-json-stringify cannot tell apart inside a tuple (and OpenAPI 3.0 has no type lists). */
const NumberOrNull = Type.Unsafe<number | null>({ type: 'number', nullable: true });

const SeriesKeySchema = Type.Object({ device: Type.Optional(Type.String()), zone: Type.Optional(Type.String()), segment: Type.Optional(Type.String()) });

export const HistoryResponse = Type.Object({
  kind: Kind,
  metric: Type.String(),
  agg: literals(AGGREGATES),
  every: Type.String(),
  from: Type.Integer({ description: 'epoch ms, start of the first interval' }),
  to: Type.Integer({ description: 'epoch ms, end of the last interval' }),
  source: literals(SOURCE_NAMES),
  approximate: Type.Boolean({ description: 'count or p95 taken over rollup means, because raw readings that old are no longer kept' }),
  unit: Type.Union([Type.String(), Type.Null()], { description: "the metric's unit; null for count" }),
  series: Type.Array(
    Type.Object({
      key: SeriesKeySchema,
      points: Type.Array(Type.Tuple([Type.Integer(), NumberOrNull]), { description: '[interval start (epoch ms), value or null]' }),
    }),
  ),
});

export const ZoneStatsQuery = Type.Object({
  kind: Kind,
  metric: Metric,
  from: Type.Optional(Instant('Start, rounded down to the hour; default 24 hours before to')),
  to: Type.Optional(Instant('End, rounded up to the hour; default now')),
  threshold: Type.Optional(
    Type.Number({
      minimum: -1_000_000,
      maximum: 10_000_000,
      description: 'hoursAbove counts hours whose zone mean exceeded it; default pm25 50, pm10 100, no2 200, o3 200, so2 350, co 30000 µg/m³, LAeq 70 dB(A), else none',
    }),
  ),
});

export const ZoneStatsResponse = Type.Object({
  kind: Kind,
  metric: Type.String(),
  from: Type.Integer(),
  to: Type.Integer(),
  unit: Type.Union([Type.String(), Type.Null()]),
  threshold: Type.Union([Type.Number(), Type.Null()]),
  zones: Type.Array(
    Type.Object({
      zone: Type.String(),
      mean: Type.Union([Type.Number(), Type.Null()]),
      min: Type.Union([Type.Number(), Type.Null()]),
      max: Type.Union([Type.Number(), Type.Null()]),
      devices: Type.Integer(),
      hoursAbove: Type.Union([Type.Integer(), Type.Null()]),
    }),
  ),
});
