/**
 * History for planners: `GET /api/v1/history` (a series per device, zone or road segment, as JSON or
 * a streamed CSV export) and `GET /api/v1/stats/zones` (per-zone summaries for reports).
 */
import type { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { kindSpec, numericMetrics, type DeviceKind } from '@city/devices';
import type { InfluxqlTarget } from '@city/platform';
import { hasRole, type AuthUser } from '../auth/roles.js';
import { ApiError, badRequest, ErrorResponse } from '../errors.js';
import { openCsvStream } from './csv.js';
import { assertWithinLimit } from './limits.js';
import { planHistory, type Aggregate, type HistoryPlan, type TimeRange } from './plan.js';
import { intervals, readSeries } from './query.js';
import { HistoryQuery, HistoryResponse, ZoneStatsQuery, ZoneStatsResponse } from './schemas.js';
import { seriesKeys, type SeriesKey } from './series-keys.js';
import { defaultThreshold, statsRange, zoneStats } from './zone-stats.js';

export interface HistoryDeps {
  influx: InfluxqlTarget;
  database: string;
  /** Points a JSON answer may hold (HISTORY_MAX_POINTS); default 100,000. */
  maxPoints?: number;
  /** Rows a CSV export may hold; it streams, so this is about the time it takes, not memory. Default 5,000,000. */
  maxCsvRows?: number;
  /** The devices on a road segment; undefined when there is no such segment. */
  devicesOnSegment(segmentId: string): string[] | undefined;
  now?: () => number;
}

/** The export is a stream; the schema documents it as the text it is. */
const CsvBody = Type.Unsafe<Readable>({ type: 'string', description: 'time,<device|zone|segment>,<metric>_<agg>, one row per interval and series' });

export const DEFAULT_MAX_POINTS = 100_000;
export const DEFAULT_MAX_CSV_ROWS = 5_000_000;

export function historyRoutes(deps: HistoryDeps): FastifyPluginAsync {
  const maxPoints = deps.maxPoints ?? DEFAULT_MAX_POINTS;
  const maxCsvRows = deps.maxCsvRows ?? DEFAULT_MAX_CSV_ROWS;
  const now = deps.now ?? Date.now;

  const reader = (kind: DeviceKind, metric: string, agg: Aggregate, plan: HistoryPlan) => async (key: SeriesKey, range: TimeRange) =>
    key.condition === undefined
      ? new Map<number, number>()
      : readSeries(deps.influx, {
          database: deps.database,
          kind,
          metric,
          agg,
          source: plan.source,
          edge: plan.edge,
          range,
          condition: key.condition,
          everyMs: plan.everyMs,
        });

  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/api/v1/history',
      {
        config: { access: 'viewer' },
        schema: {
          tags: ['history'],
          summary: 'A metric over time per device, zone or road segment, aggregated per interval; ?format=csv exports it (planner role)',
          description:
            'Read from the coarsest storage that answers the interval and range: hourly rollups (kept for ever), 1-minute rollups (1 year) or raw readings (30 days). ' +
            'The newest hours, not rolled up yet, come from raw readings. count and p95 are exact on raw readings; for ranges older than 30 days they are taken over the rollup means and marked approximate. ' +
            'A JSON answer holds at most HISTORY_MAX_POINTS points (series × intervals); a CSV export streams and may hold more.',
          querystring: HistoryQuery,
          response: {
            200: { description: 'The series, or the CSV export', content: { 'application/json': { schema: HistoryResponse }, 'text/csv': { schema: CsvBody } } },
            400: ErrorResponse,
            403: ErrorResponse,
            404: ErrorResponse,
          },
        },
      },
      async (request, reply) => {
        const query = request.query;
        const csv = query.format === 'csv' || (query.format === undefined && prefersCsv(request.headers.accept));
        if (csv) assertPlanner(request.user);
        assertNumericMetric(query.kind, query.metric);
        const agg = query.agg ?? 'mean';
        const plan = planHistory({ from: query.from, to: query.to, every: query.every, agg, source: query.source, now: now() });
        const keys = seriesKeys(query, deps.devicesOnSegment);
        assertWithinLimit({
          range: plan,
          everyMs: plan.everyMs,
          series: keys.length,
          max: csv ? maxCsvRows : maxPoints,
          alternative: csv ? undefined : 'a CSV export (format=csv, planner role), which may hold more',
        });
        const read = reader(query.kind, query.metric, agg, plan);

        if (csv) {
          const stream = await openCsvStream({ range: plan, everyMs: plan.everyMs, keys, valueColumn: `${query.metric}_${agg}`, read });
          stream.on('error', (error) => request.log.error({ err: error }, 'history CSV export failed midway'));
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="${csvFilename(query.kind, query.metric, agg, keys, plan)}"`)
            .send(stream);
        }
        const series = await Promise.all(
          keys.map(async (key) => ({ key: { [key.name]: key.id }, points: intervals(plan, plan.everyMs, await read(key, plan)) })),
        );
        return {
          kind: query.kind,
          metric: query.metric,
          agg,
          every: plan.every,
          from: plan.from,
          to: plan.to,
          source: plan.source.name,
          approximate: plan.approximate,
          unit: agg === 'count' ? null : unitOf(query.kind, query.metric),
          series,
        };
      },
    );

    app.get(
      '/api/v1/stats/zones',
      {
        config: { access: 'viewer' },
        schema: {
          tags: ['history'],
          summary: 'Per-zone summary of a metric over a range, from the hourly rollups',
          description:
            'mean, min and max over the zone’s device-hours; devices that reported; hoursAbove: hours whose zone-wide hourly mean exceeded threshold ' +
            '(defaults from QCVN 05:2023/BTNMT for air — for PM2.5 and PM10 their 24-hour limits, as the regulation sets no 1-hour one — and QCVN 26:2010/BTNMT for noise; none for other metrics).',
          querystring: ZoneStatsQuery,
          response: { 200: ZoneStatsResponse, 400: ErrorResponse },
        },
      },
      async (request) => {
        const { kind, metric } = request.query;
        assertNumericMetric(kind, metric);
        const at = now();
        const range = statsRange(request.query.from, request.query.to, at);
        const threshold = request.query.threshold ?? defaultThreshold(kind, metric);
        const zones = await zoneStats({ influx: deps.influx, database: deps.database, kind, metric, range, threshold, now: at });
        return { kind, metric, from: range.from, to: range.to, unit: unitOf(kind, metric), threshold: threshold ?? null, zones };
      },
    );
  };
}

function assertNumericMetric(kind: DeviceKind, metric: string): void {
  const metrics = numericMetrics(kind);
  if (!metrics.includes(metric)) {
    throw badRequest('invalid_input', `metric: '${metric}' is not a numeric metric of ${kind}; use one of ${metrics.join(', ')}`);
  }
}

function assertPlanner(user: AuthUser | null): void {
  if (!user || !hasRole(user.role, 'planner')) {
    throw new ApiError(403, 'forbidden', `exporting history as CSV needs the planner role; you are ${user?.role ?? 'not logged in'}`);
  }
}

const unitOf = (kind: DeviceKind, metric: string) => kindSpec(kind).metrics[metric]?.unit ?? null;

/** CSV when the client lists text/csv before application/json; quality values are not weighed, browsers never send text/csv. */
function prefersCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept.split(',').map((part) => part.split(';')[0]?.trim().toLowerCase());
  const csv = types.indexOf('text/csv');
  const json = types.indexOf('application/json');
  return csv >= 0 && (json < 0 || csv < json);
}

function csvFilename(kind: string, metric: string, agg: string, keys: readonly SeriesKey[], range: TimeRange): string {
  const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '').replace(/00Z$/, 'Z');
  const what = keys.length === 1 ? (keys[0] as SeriesKey).id : `${keys.length}-${(keys[0] as SeriesKey).name}s`;
  return `history_${kind}_${metric}_${agg}_${what}_${stamp(range.from)}-${stamp(range.to)}.csv`;
}
