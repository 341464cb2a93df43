/**
 * The InfluxDB layout, a contract between ingest (which writes and creates it) and the api (which
 * queries it). Rollups keep the raw field names — `<metric>` is the mean, `<metric>_min` and
 * `<metric>_max` the extremes — so that a planner's query only changes its retention policy.
 * Booleans and enums (`congested`, `powerState`) have no meaningful mean and are not rolled up.
 * Continuous queries and the range backfill run the same SELECTs, so a rollup field has one type however
 * it was filled: the mean is a float, while min and max keep an integer metric (parking) an integer.
 */
import { createHash } from 'node:crypto';
import { DEVICE_KINDS, KINDS, type DeviceKind } from './kinds.js';

export const DEFAULT_DATABASE = 'city';

export interface RetentionPolicy {
  name: string;
  duration: string;
  shardDuration: string;
  isDefault: boolean;
}

export const RAW_POLICY: RetentionPolicy = { name: 'raw', duration: '720h', shardDuration: '24h', isDefault: true };
export const ROLLUP_1M_POLICY: RetentionPolicy = { name: 'rollup_1m', duration: '8760h', shardDuration: '168h', isDefault: false };
export const ROLLUP_1H_POLICY: RetentionPolicy = { name: 'rollup_1h', duration: '0s', shardDuration: '2160h', isDefault: false };
export const RETENTION_POLICIES = [RAW_POLICY, ROLLUP_1M_POLICY, ROLLUP_1H_POLICY] as const;

export const TAG_KEYS = ['device_id', 'zone'] as const;

interface Rollup {
  name: string;
  interval: string;
  from: RetentionPolicy;
  into: RetentionPolicy;
  /** How far back each run recomputes, so that late data (a spool replayed after an outage) is rolled up too. */
  resampleFor: string;
}

export const ROLLUPS: readonly Rollup[] = [
  { name: '1m', interval: '1m', from: RAW_POLICY, into: ROLLUP_1M_POLICY, resampleFor: '10m' },
  { name: '1h', interval: '1h', from: ROLLUP_1M_POLICY, into: ROLLUP_1H_POLICY, resampleFor: '3h' },
];

export function numericMetrics(kind: DeviceKind): string[] {
  return Object.entries(KINDS[kind].metrics)
    .filter(([, spec]) => spec.type === 'float' || spec.type === 'integer')
    .map(([name]) => name);
}

const quote = (identifier: string) => `"${identifier.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

function rollupSelect(db: string, kind: DeviceKind, rollup: Rollup, where = ''): string {
  const fromRaw = rollup.from === RAW_POLICY;
  const columns = numericMetrics(kind).flatMap((metric) => [
    `mean(${quote(metric)}) AS ${quote(metric)}`,
    `min(${quote(fromRaw ? metric : `${metric}_min`)}) AS ${quote(`${metric}_min`)}`,
    `max(${quote(fromRaw ? metric : `${metric}_max`)}) AS ${quote(`${metric}_max`)}`,
  ]);
  return (
    `SELECT ${columns.join(', ')} INTO ${quote(db)}.${quote(rollup.into.name)}.${quote(kind)} ` +
    `FROM ${quote(db)}.${quote(rollup.from.name)}.${quote(kind)}${where} GROUP BY time(${rollup.interval}), *`
  );
}

const MANAGED_QUERY_NAME = new RegExp(`^(${DEVICE_KINDS.join('|')})_(${ROLLUPS.map((rollup) => rollup.name).join('|')})_[0-9a-f]{8}$`);

/** Continuous queries this layout created (and may drop when their definition changes). */
export function isManagedQueryName(name: string): boolean {
  return MANAGED_QUERY_NAME.test(name);
}

export function retentionPolicyStatements(db: string): string[] {
  return RETENTION_POLICIES.map(
    (policy) =>
      `CREATE RETENTION POLICY ${quote(policy.name)} ON ${quote(db)} DURATION ${policy.duration} REPLICATION 1 SHARD DURATION ${policy.shardDuration}${policy.isDefault ? ' DEFAULT' : ''}`,
  );
}

export interface ContinuousQuery {
  name: string;
  statement: string;
}

/** One per kind and rollup, named `<kind>_<rollup>_<hash of the definition>`. */
export function continuousQueries(db: string): ContinuousQuery[] {
  return DEVICE_KINDS.flatMap((kind) =>
    ROLLUPS.map((rollup) => {
      const body = `RESAMPLE EVERY ${rollup.interval} FOR ${rollup.resampleFor} BEGIN ${rollupSelect(db, kind, rollup)} END`;
      const name = `${kind}_${rollup.name}_${createHash('sha256').update(body).digest('hex').slice(0, 8)}`;
      return { name, statement: `CREATE CONTINUOUS QUERY ${quote(name)} ON ${quote(db)} ${body}` };
    }),
  );
}

/**
 * The rollups' SELECT … INTO over an explicit range, for history written after the fact (backfill,
 * late readings), every 1-minute rollup before the hourly ones that are computed from them.
 */
export function rollupRangeStatements(db: string, fromMs: number, toMs: number, kinds: readonly DeviceKind[] = DEVICE_KINDS): string[] {
  const where = ` WHERE time >= ${Math.floor(fromMs)}ms AND time < ${Math.ceil(toMs)}ms`;
  return ROLLUPS.flatMap((rollup) => kinds.map((kind) => rollupSelect(db, kind, rollup, where)));
}
