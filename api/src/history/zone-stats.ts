/**
 * Per-zone summaries for planners' reports, from the hourly rollups (and raw for the hours not rolled
 * up yet): mean, extremes, how many devices reported, and how many hours the zone's hourly mean
 * exceeded a threshold.
 */
import type { DeviceKind } from '@city/devices';
import { influxQuery, type InfluxqlTarget } from '@city/platform';
import { alignRange, requestedRange, settledEdge, SOURCES, type TimeRange } from './plan.js';
import { measurement, numberLiteral, quoteIdentifier, rawRolledUp, timeWithin } from './query.js';

const HOUR = 3_600_000;

/**
 * Default thresholds for hoursAbove, in the metric's unit. Air: QCVN 05:2023/BTNMT, the 1-hour limits
 * where it sets one (SO2 350, CO 30 000, NO2 200, O3 200 µg/m³); for particles it sets only 24-hour and
 * annual limits, so an hour above the 24-hour limit (PM2.5 50, PM10 100 µg/m³) is counted as a screening
 * figure, not as a breach. Noise: QCVN 26:2010/BTNMT, 70 dB(A) by day in ordinary areas (55 at night, which
 * an all-day count cannot tell apart). Other metrics (water level, traffic, parking) have no city-wide
 * limit: a water level's alert level is per sensor, so hoursAbove is null unless a threshold is given.
 */
export const DEFAULT_THRESHOLDS: { readonly [kind in DeviceKind]?: Readonly<Record<string, number>> } = {
  air_quality: { pm25: 50, pm10: 100, no2: 200, o3: 200, so2: 350, co: 30_000 },
  noise: { LAeq: 70 },
};

export function defaultThreshold(kind: DeviceKind, metric: string): number | undefined {
  return DEFAULT_THRESHOLDS[kind]?.[metric];
}

export interface ZoneSummary {
  zone: string;
  mean: number | null;
  min: number | null;
  max: number | null;
  /** Devices of the kind that reported the metric in the zone within the range. */
  devices: number;
  /** Hours whose zone-wide mean exceeded the threshold; null without a threshold. */
  hoursAbove: number | null;
}

export interface ZoneStatsRequest {
  influx: InfluxqlTarget;
  database: string;
  kind: DeviceKind;
  metric: string;
  range: TimeRange;
  threshold: number | undefined;
  now: number;
}

/** Whole hours: the rollup's rows stand for whole hours, so a partial one would count data outside the range. */
export function statsRange(from: string | undefined, to: string | undefined, now: number): TimeRange {
  return alignRange(requestedRange(from, to, now), HOUR);
}

interface Tally {
  sum: number;
  hours: number;
  min: number | null;
  max: number | null;
}

const lower = (a: number | null, b: unknown) => (typeof b !== 'number' ? a : a === null ? b : Math.min(a, b));
const higher = (a: number | null, b: unknown) => (typeof b !== 'number' ? a : a === null ? b : Math.max(a, b));

/**
 * The settled hours are aggregated by InfluxDB straight from rollup_1h (a subquery joining it with raw
 * would stream every row through InfluxDB's subquery engine: seconds for a month of a city); the
 * few hours after the edge come from raw as device-hours and are joined here.
 */
export async function zoneStats(request: ZoneStatsRequest): Promise<ZoneSummary[]> {
  const { influx, database, kind, metric, range, threshold } = request;
  const edge = Math.min(range.to, Math.max(range.from, settledEdge(SOURCES.rollup_1h, request.now)));
  const settled = { from: range.from, to: edge };
  const recent = { from: edge, to: range.to };
  const q = quoteIdentifier;
  const rollup = measurement(database, SOURCES.rollup_1h.name, kind);
  const run = (statement: string) => influxQuery(influx, database, statement);
  const nothing = Promise.resolve([]);
  const [settledDevices, settledAbove, recentDeviceHours] = await Promise.all([
    settled.from < settled.to
      ? run(
          `SELECT mean(${q(metric)}) AS "mean", min(${q(`${metric}_min`)}) AS "min", max(${q(`${metric}_max`)}) AS "max", count(${q(metric)}) AS "hours" ` +
            `FROM ${rollup} WHERE ${timeWithin(settled)} GROUP BY ${q('zone')}, ${q('device_id')}`,
        )
      : nothing,
    settled.from < settled.to && threshold !== undefined
      ? run(
          `SELECT count("hourly") AS "hours" FROM (SELECT mean(${q(metric)}) AS "hourly" FROM ${rollup} WHERE ${timeWithin(settled)} GROUP BY time(1h), ${q('zone')} fill(none)) ` +
            `WHERE "hourly" > ${numberLiteral(threshold)} AND ${timeWithin(settled)} GROUP BY ${q('zone')}`,
        )
      : nothing,
    recent.from < recent.to
      ? run(rawRolledUp({ database, kind, metric }, ['mean', 'min', 'max'], HOUR, recent))
      : nothing,
  ]);

  // Per device, so that `devices` counts each once whichever part it reported in.
  const devices = new Map<string, Map<string, Tally>>();
  const tally = (zone: unknown, device: unknown) => {
    if (typeof zone !== 'string' || typeof device !== 'string') return undefined;
    const inZone = devices.get(zone) ?? new Map<string, Tally>();
    devices.set(zone, inZone);
    const found = inZone.get(device) ?? { sum: 0, hours: 0, min: null, max: null };
    inZone.set(device, found);
    return found;
  };
  for (const row of settledDevices) {
    const device = tally(row.zone, row.device_id);
    if (!device || typeof row.mean !== 'number' || typeof row.hours !== 'number') continue;
    // A device's mean over its hours, weighted by them: the zone's mean is over all its device-hours.
    device.sum += row.mean * row.hours;
    device.hours += row.hours;
    device.min = lower(device.min, row.min);
    device.max = higher(device.max, row.max);
  }
  // zone → hour → its devices' hourly means
  const recentHours = new Map<string, Map<number, number[]>>();
  for (const row of recentDeviceHours) {
    const { zone, time } = row;
    const level = row[metric];
    const device = tally(zone, row.device_id);
    if (!device || typeof zone !== 'string' || typeof time !== 'number' || typeof level !== 'number') continue;
    device.sum += level;
    device.hours += 1;
    device.min = lower(device.min, row[`${metric}_min`]);
    device.max = higher(device.max, row[`${metric}_max`]);
    const hours = recentHours.get(zone) ?? new Map<number, number[]>();
    recentHours.set(zone, hours);
    hours.set(time, [...(hours.get(time) ?? []), level]);
  }
  const above = new Map<string, number>(settledAbove.map((row) => [String(row.zone), Number(row.hours)]));
  if (threshold !== undefined) {
    for (const [zone, hours] of recentHours) {
      for (const levels of hours.values()) {
        if (levels.reduce((sum, level) => sum + level, 0) / levels.length > threshold) above.set(zone, (above.get(zone) ?? 0) + 1);
      }
    }
  }

  return [...devices.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([zone, inZone]) => {
      const reported = [...inZone.values()].filter((device) => device.hours > 0);
      const hours = reported.reduce((sum, device) => sum + device.hours, 0);
      return {
        zone,
        mean: hours > 0 ? reported.reduce((sum, device) => sum + device.sum, 0) / hours : null,
        min: reported.reduce<number | null>((min, device) => lower(min, device.min), null),
        max: reported.reduce<number | null>((max, device) => higher(max, device.max), null),
        devices: reported.length,
        hoursAbove: threshold === undefined ? null : (above.get(zone) ?? 0),
      };
    })
    .filter((zone) => zone.devices > 0);
}
