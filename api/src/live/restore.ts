/**
 * Rebuilds live state after an api restart from what InfluxDB already holds: each device's latest
 * reading (last day) and, for air stations, the hourly means the VN_AQI needs (last 12 hours, this one included,
 * with its reading counts so that the readings still to come this hour join its mean with their due weight).
 * Presence comes back by itself: the broker's retained status messages arrive on subscribing.
 */
import { DEVICE_KINDS, KINDS, type DeviceKind, type MetricValue } from '@city/devices';
import { influxQuery, type InfluxqlTarget, type Logger } from '@city/platform';
import type { LiveState } from './live-state.js';
import type { Pollutant } from './vn-aqi.js';

const HOUR_MS = 3_600_000;
const POLLUTANTS: readonly Pollutant[] = ['pm25', 'pm10', 'o3', 'co', 'so2', 'no2'];

export async function restoreLiveState(live: LiveState, influx: InfluxqlTarget, database: string, logger: Logger): Promise<void> {
  let restored = 0;
  for (const kind of DEVICE_KINDS) {
    const rows = await influxQuery(
      influx,
      database,
      `SELECT * FROM "raw"."${kind}" WHERE time > now() - 1d GROUP BY "device_id" ORDER BY time DESC LIMIT 1`,
    );
    for (const row of rows) {
      if (typeof row.device_id !== 'string' || typeof row.time !== 'number') continue;
      live.seedReading(row.device_id, { ts: row.time, values: metricsOf(kind, row) });
      restored += 1;
    }
  }
  const currentHour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const fields = POLLUTANTS.flatMap((p) => [`mean("${p}") AS "${p}"`, `count("${p}") AS "${p}_count"`]);
  const means = await influxQuery(
    influx,
    database,
    `SELECT ${fields.join(', ')} FROM "raw"."air_quality" WHERE time >= ${currentHour - 11 * HOUR_MS}ms AND time <= now() GROUP BY time(1h), "device_id"`,
  );
  const stations = new Set<string>();
  for (const row of means) {
    if (typeof row.device_id !== 'string' || typeof row.time !== 'number') continue;
    const values: Partial<Record<Pollutant, number>> = {};
    const counts: Partial<Record<Pollutant, number>> = {};
    for (const pollutant of POLLUTANTS) {
      const mean = row[pollutant];
      const count = row[`${pollutant}_count`];
      if (typeof mean !== 'number') continue;
      values[pollutant] = mean;
      if (typeof count === 'number') counts[pollutant] = count;
    }
    if (Object.keys(values).length === 0) continue;
    live.aqi.seed(row.device_id, row.time, values, counts);
    stations.add(row.device_id);
  }
  for (const station of stations) live.refreshDerived(station);
  logger.info({ readings: restored, airStations: stations.size }, 'live state restored from InfluxDB');
}

function metricsOf(kind: DeviceKind, row: Record<string, unknown>): Record<string, MetricValue> {
  const values: Record<string, MetricValue> = {};
  for (const metric of Object.keys(KINDS[kind].metrics)) {
    const value = row[metric];
    if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') values[metric] = value;
  }
  return values;
}
