/**
 * InfluxQL text for history. Identifiers are double-quoted and literals single-quoted with their
 * escapes, although the values reaching here were validated already, so that no id ever becomes syntax.
 *
 * A planned read is [from, edge) from the chosen source and [edge, to) from raw, rolled up on the fly
 * to the source's interval per device (the same mean, min and max the continuous queries compute).
 * Intervals wholly before the edge are aggregated by InfluxDB straight from the rollup; only the
 * interval holding the edge and those after it go through subqueries joining both, which InfluxDB
 * evaluates point by point and would make a month of a busy zone take seconds.
 */
import type { DeviceKind } from '@city/devices';
import { influxQuery, type InfluxqlTarget } from '@city/platform';
import { timeWindows, type Aggregate, type Source, type TimeRange } from './plan.js';

export const quoteIdentifier = (name: string) => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
export const quoteString = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** `"tag" = 'a'`, or `("tag" = 'a' OR "tag" = 'b')`. */
export function tagIn(tag: string, values: readonly string[]): string {
  const terms = values.map((value) => `${quoteIdentifier(tag)} = ${quoteString(value)}`);
  return terms.length === 1 ? (terms[0] as string) : `(${terms.join(' OR ')})`;
}

/** A number as InfluxQL reads it: no exponent, which its parser does not take. */
export function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return Number.isInteger(value) ? String(value) : value.toFixed(12).replace(/0+$/, '');
}

export const timeWithin = (range: TimeRange) => `time >= ${range.from}ms AND time < ${range.to}ms`;
export const and = (...terms: (string | undefined)[]) => terms.filter((term) => term !== undefined).join(' AND ');
export const measurement = (database: string, policy: string, kind: DeviceKind) =>
  `${quoteIdentifier(database)}.${quoteIdentifier(policy)}.${quoteIdentifier(kind)}`;

/** The three columns a rollup holds per metric, and what each is computed from raw. */
export type RollupColumn = 'mean' | 'min' | 'max';
export const columnName = (metric: string, column: RollupColumn) => (column === 'mean' ? metric : `${metric}_${column}`);

export interface Read {
  database: string;
  kind: DeviceKind;
  metric: string;
  source: Source;
  /** Where `source` stops being complete; raw answers from here on. */
  edge: number;
  range: TimeRange;
  /** A condition on tags selecting the devices, or none for all of the kind. */
  condition?: string | undefined;
}

/** Raw readings of the range rolled up per device and interval, into the rollup's columns. */
export function rawRolledUp(read: Pick<Read, 'database' | 'kind' | 'metric' | 'condition'>, columns: readonly RollupColumn[], interval: number, range: TimeRange): string {
  const rolled = columns.map((column) => `${column}(${quoteIdentifier(read.metric)}) AS ${quoteIdentifier(columnName(read.metric, column))}`).join(', ');
  return (
    `SELECT ${rolled} FROM ${measurement(read.database, 'raw', read.kind)} WHERE ${and(read.condition, timeWithin(range))} ` +
    `GROUP BY time(${interval}ms), ${quoteIdentifier('device_id')}, ${quoteIdentifier('zone')} fill(none)`
  );
}

/** The FROM and WHERE of an outer SELECT whose rows look like the source's over the read's range: the rollup before the edge, raw after. */
export function readSource(read: Read, columns: readonly RollupColumn[]): { from: string; where: string } {
  const { database, kind, metric, source, range, condition } = read;
  const body = { from: range.from, to: Math.min(range.to, read.edge) };
  const tail = { from: Math.max(range.from, read.edge), to: range.to };
  if (source.resolutionMs === 0 || tail.from >= tail.to) {
    return { from: measurement(database, source.name, kind), where: and(condition, timeWithin(range)) };
  }
  const parts: string[] = [];
  if (body.from < body.to) {
    const selected = columns.map((column) => quoteIdentifier(columnName(metric, column))).join(', ');
    parts.push(`(SELECT ${selected} FROM ${measurement(database, source.name, kind)} WHERE ${and(condition, timeWithin(body))} GROUP BY *)`);
  }
  parts.push(`(${rawRolledUp(read, columns, source.resolutionMs, tail)})`);
  return { from: parts.join(', '), where: timeWithin(range) };
}

/** The column an aggregate reads: extremes from the rollup's own extremes, everything else from its means. */
export function aggregateColumn(agg: Aggregate): RollupColumn {
  return agg === 'min' || agg === 'max' ? agg : 'mean';
}

export function aggregateExpression(agg: Aggregate, metric: string, source: Source): string {
  const field = quoteIdentifier(source.resolutionMs === 0 ? metric : columnName(metric, aggregateColumn(agg)));
  return agg === 'p95' ? `percentile(${field}, 95)` : `${agg}(${field})`;
}

export interface SeriesRead extends Read {
  agg: Aggregate;
  everyMs: number;
}

/**
 * The statements giving one series' aggregate per interval, where the interval has data: the settled
 * intervals straight from the source, the rest (if any) joining it with raw.
 */
export function seriesStatements(read: SeriesRead): string[] {
  const { range, everyMs } = read;
  const settled = Math.min(range.to, Math.max(range.from, Math.floor(read.edge / everyMs) * everyMs));
  const parts = read.source.resolutionMs === 0 ? [range] : [{ from: range.from, to: settled }, { from: settled, to: range.to }];
  return parts
    .filter((part) => part.from < part.to)
    .map((part) => {
      const { from, where } = readSource({ ...read, range: part }, [aggregateColumn(read.agg)]);
      return `SELECT ${aggregateExpression(read.agg, read.metric, read.source)} AS "value" FROM ${from} WHERE ${where} GROUP BY time(${everyMs}ms) fill(none)`;
    });
}

/** Rows one query may return: a server with `max-row-limit` set (10,000 in older defaults) cuts longer answers short without an error. */
export const MAX_ROWS_PER_QUERY = 10_000;

/** Interval start → value, for the intervals that have one. */
export async function readSeries(influx: InfluxqlTarget, read: SeriesRead): Promise<Map<number, number>> {
  const statements = timeWindows(read.range, read.everyMs, MAX_ROWS_PER_QUERY).flatMap((window) => seriesStatements({ ...read, range: window }));
  const answers = await Promise.all(statements.map((statement) => influxQuery(influx, read.database, statement)));
  const values = new Map<number, number>();
  for (const row of answers.flat()) if (typeof row.time === 'number' && typeof row.value === 'number') values.set(row.time, row.value);
  return values;
}

/** Every interval of the range, null where there was no data. */
export function intervals(range: TimeRange, everyMs: number, values: ReadonlyMap<number, number>): [number, number | null][] {
  const points: [number, number | null][] = [];
  for (let time = range.from; time < range.to; time += everyMs) points.push([time, values.get(time) ?? null]);
  return points;
}
