/**
 * The zone summaries and the fleet's presence counts, kept as devices come, change and go: a second's
 * summaries then cost the zones (tens), not a walk of 10,000 devices. `zoneSummaries` is the walk, for the
 * tests to hold the tally to.
 */
import type { Incident, StreamDevice } from '../api/types.js';

export interface ZoneSummary {
  [key: string]: number | null;
  devices: number;
  online: number;
  offline: number;
  aqiMax: number | null;
  pm25Mean: number | null;
  noiseMean: number | null;
  openIncidents: number;
}

export interface PresenceCounts {
  online: number;
  offline: number;
  unknown: number;
}

/**
 * Sums are kept in whole millionths: integer sums are exact whatever the order of additions and
 * removals, where floating-point ones would drift from a fresh walk's after enough updates (a reading
 * finer than a millionth is below any sensor's resolution).
 */
const SCALE = 1e6;
const scaled = (value: number) => Math.round(value * SCALE);

interface Sum {
  count: number;
  total: number;
}

interface ZoneTally {
  devices: number;
  online: number;
  offline: number;
  /** How many devices report each AQI: the maximum can drop when its last device changes. */
  aqi: Map<number, number>;
  pm25: Sum;
  noise: Sum;
}

export class DeviceTally {
  readonly presence: PresenceCounts = { online: 0, offline: 0, unknown: 0 };
  private readonly zones = new Map<string, ZoneTally>();

  add(device: StreamDevice): void {
    this.count(device, 1);
  }

  remove(device: StreamDevice): void {
    this.count(device, -1);
  }

  /** A zone's summary; `openIncidents` from the incidents, which are few enough to count each time. */
  summary(zone: string, openIncidents: number): ZoneSummary {
    const tally = this.zones.get(zone);
    if (!tally) return { ...emptySummary(), openIncidents };
    let aqiMax: number | null = null;
    for (const aqi of tally.aqi.keys()) aqiMax = Math.max(aqiMax ?? 0, aqi);
    return {
      devices: tally.devices,
      online: tally.online,
      offline: tally.offline,
      aqiMax,
      pm25Mean: round(mean(tally.pm25), 1),
      noiseMean: round(mean(tally.noise), 1),
      openIncidents,
    };
  }

  private count(device: StreamDevice, sign: 1 | -1): void {
    const presence = device.presence === 'online' || device.presence === 'offline' ? device.presence : 'unknown';
    this.presence[presence] += sign;
    let tally = this.zones.get(device.zone);
    if (!tally) this.zones.set(device.zone, (tally = { devices: 0, online: 0, offline: 0, aqi: new Map(), pm25: { count: 0, total: 0 }, noise: { count: 0, total: 0 } }));
    tally.devices += sign;
    if (presence === 'online') tally.online += sign;
    if (presence === 'offline') tally.offline += sign;
    const aqi = device.derived.aqi;
    if (aqi !== undefined) {
      const devices = (tally.aqi.get(aqi) ?? 0) + sign;
      if (devices === 0) tally.aqi.delete(aqi);
      else tally.aqi.set(aqi, devices);
    }
    const pm25 = device.reading?.pm25;
    if (typeof pm25 === 'number') add(tally.pm25, pm25, sign);
    const noise = device.reading?.LAeq;
    if (typeof noise === 'number') add(tally.noise, noise, sign);
    if (tally.devices === 0) this.zones.delete(device.zone);
  }
}

function add(sum: Sum, value: number, sign: 1 | -1): void {
  sum.count += sign;
  sum.total += sign * scaled(value);
}

export const emptySummary = (): ZoneSummary => ({ devices: 0, online: 0, offline: 0, aqiMax: null, pm25Mean: null, noiseMean: null, openIncidents: 0 });

/** Open incidents per zone (the store drops resolved ones). */
export function incidentsPerZone(incidents: Iterable<Incident>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const incident of incidents) if (incident.zone) counts.set(incident.zone, (counts.get(incident.zone) ?? 0) + 1);
  return counts;
}

/** Every zone's summary from a walk of all devices: what the tally must always agree with. */
export function zoneSummaries(devices: Iterable<StreamDevice>, incidents: Iterable<Incident>): Map<string, ZoneSummary> {
  const sums = new Map<string, { summary: ZoneSummary; pm25: Sum; noise: Sum }>();
  const entry = (zone: string) => {
    let found = sums.get(zone);
    if (!found) sums.set(zone, (found = { summary: emptySummary(), pm25: { count: 0, total: 0 }, noise: { count: 0, total: 0 } }));
    return found;
  };
  for (const device of devices) {
    const { summary, pm25, noise } = entry(device.zone);
    summary.devices += 1;
    if (device.presence === 'online') summary.online += 1;
    if (device.presence === 'offline') summary.offline += 1;
    if (device.derived.aqi !== undefined) summary.aqiMax = Math.max(summary.aqiMax ?? 0, device.derived.aqi);
    if (typeof device.reading?.pm25 === 'number') add(pm25, device.reading.pm25, 1);
    if (typeof device.reading?.LAeq === 'number') add(noise, device.reading.LAeq, 1);
  }
  for (const [zone, count] of incidentsPerZone(incidents)) entry(zone).summary.openIncidents = count;
  const result = new Map<string, ZoneSummary>();
  for (const [zone, { summary, pm25, noise }] of sums) {
    summary.pm25Mean = round(mean(pm25), 1);
    summary.noiseMean = round(mean(noise), 1);
    result.set(zone, summary);
  }
  return result;
}

function mean(sum: Sum): number | undefined {
  return sum.count === 0 ? undefined : sum.total / sum.count / SCALE;
}

export function round(value: number | undefined, digits: number): number | null {
  if (value === undefined || value === null) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
