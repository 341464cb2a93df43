/**
 * Creates the InfluxDB layout (devices/src/storage-layout.ts) idempotently at start: the database,
 * retention policies (altered when their settings changed) and continuous queries. 1.x cannot alter
 * a continuous query and shows it re-rendered, so each one is named with a hash of its definition:
 * present under that name means up to date. Two runs at once (ingest restarting while another is
 * still setting up) are harmless: InfluxDB takes an identical CREATE, or a DROP of a missing query, as done.
 */
import { continuousQueries, type DeviceKind, isManagedQueryName, RETENTION_POLICIES, retentionPolicyStatements, rollupRangeStatements } from '@city/devices';
import { type Logger, influxQuery, type InfluxqlTarget } from '@city/platform';

export interface StorageTarget {
  INFLUX_URL: string;
  INFLUX_DB: string;
  INFLUX_USERNAME?: string | undefined;
  INFLUX_PASSWORD?: string | undefined;
  INFLUX_TOKEN?: string | undefined;
}

function target(config: StorageTarget): InfluxqlTarget {
  return { url: config.INFLUX_URL, username: config.INFLUX_USERNAME, password: config.INFLUX_PASSWORD, token: config.INFLUX_TOKEN };
}

export async function ensureStorageLayout(config: StorageTarget, logger: Logger): Promise<void> {
  if (config.INFLUX_TOKEN) {
    logger.info('InfluxDB 2.x/3.x: retention and downsampling belong to the bucket and its tasks; nothing to create');
    return;
  }
  const db = config.INFLUX_DB;
  const server = target(config);
  await influxQuery(server, undefined, `CREATE DATABASE "${db}"`);

  const existingPolicies = new Map((await influxQuery(server, db, `SHOW RETENTION POLICIES ON "${db}"`)).map((row) => [row.name, row]));
  const statements = retentionPolicyStatements(db);
  for (const [index, policy] of RETENTION_POLICIES.entries()) {
    const create = statements[index] as string;
    const existing = existingPolicies.get(policy.name);
    if (!existing) {
      await influxQuery(server, db, create);
      logger.info({ policy: policy.name }, 'retention policy created');
    } else if (
      !sameDuration(existing.duration, policy.duration) ||
      !sameDuration(existing.shardGroupDuration, policy.shardDuration) ||
      existing.default !== policy.isDefault
    ) {
      // Existing shard groups keep their old span; the new shard duration applies to the next ones.
      await influxQuery(server, db, create.replace(/^CREATE/, 'ALTER'));
      logger.info({ policy: policy.name }, 'retention policy altered');
    }
  }

  const present = new Set(
    (await influxQuery(server, db, 'SHOW CONTINUOUS QUERIES')).filter((row) => row.series === db).map((row) => String(row.name)),
  );
  const wanted = continuousQueries(db);
  for (const cq of wanted) {
    if (present.has(cq.name)) continue;
    await influxQuery(server, db, cq.statement);
    logger.info({ query: cq.name }, 'continuous query created');
  }
  // A changed definition has a new name (its hash); the old one is dropped so that it stops writing.
  const wantedNames = new Set(wanted.map((cq) => cq.name));
  for (const name of present) {
    if (!wantedNames.has(name) && isManagedQueryName(name)) {
      await influxQuery(server, db, `DROP CONTINUOUS QUERY "${name}" ON "${db}"`);
      logger.info({ query: name }, 'outdated continuous query dropped');
    }
  }
}

/**
 * Rolls up history written after the fact (a backfill, late readings), which continuous queries only
 * cover for recent windows. The range widens to whole hours, since an hourly rollup needs all of its hour.
 */
export async function runRollups(config: StorageTarget, fromMs: number, toMs: number, kinds?: readonly DeviceKind[]): Promise<void> {
  const hour = 3_600_000;
  for (const statement of rollupRangeStatements(config.INFLUX_DB, Math.floor(fromMs / hour) * hour, Math.ceil(toMs / hour) * hour, kinds)) {
    await influxQuery(target(config), config.INFLUX_DB, statement, 300_000);
  }
}

/** An InfluxQL duration (`10m`, `720h`, and `720h0m0s` as InfluxDB reports it) in milliseconds. */
export function durationMs(text: string): number {
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([hms])/g)) seconds += Number(amount) * { h: 3600, m: 60, s: 1 }[unit as 'h' | 'm' | 's'];
  return seconds * 1000;
}

/** InfluxDB reports `720h0m0s` for what was created as `720h`, and `0s` for INF. */
function sameDuration(reported: unknown, wanted: string): boolean {
  return typeof reported === 'string' && durationMs(reported) === durationMs(wanted);
}
