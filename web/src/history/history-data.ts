/**
 * The city as it was: zone and road-segment series from the history API, laid on one time grid so that
 * the map can be redrawn for any moment of the range. Congestion is derived with the api's own rule.
 */
import type { ApiClient } from '../api/client.js';
import type { Feature, FeatureCollection, HistoryAnswer } from '../api/types.js';
import { congestionLevel } from '../../../api/src/live/derive.js';
import { cityMidnight } from '../i18n/format.js';

const DAY_MS = 86_400_000;
/** The api answers at most this many ids per series parameter. */
export const IDS_PER_REQUEST = 20;

export const ZONE_METRICS = [
  { metric: 'pm25', kind: 'air_quality' },
  { metric: 'pm10', kind: 'air_quality' },
  { metric: 'no2', kind: 'air_quality' },
  { metric: 'LAeq', kind: 'noise' },
] as const;
export type ZoneMetric = (typeof ZONE_METRICS)[number]['metric'];

export interface HistoryRange {
  from: number;
  to: number;
  every: string;
  stepMs: number;
}

/** A day at quarter hours, a longer range hourly; never past now. */
export function historyRange(date: string, days: number, now = Date.now()): HistoryRange {
  const from = cityMidnight(date);
  const to = Math.min(from + days * DAY_MS, now);
  const stepMs = days <= 1 ? 15 * 60_000 : 3_600_000;
  return { from, to: Math.max(to, from + stepMs), every: days <= 1 ? '15m' : '1h', stepMs };
}

export interface HistoryFrames {
  times: number[];
  metric: ZoneMetric;
  unit: string | null;
  zones: Map<string, (number | null)[]>;
  speed: Map<string, (number | null)[]>;
  occupancy: Map<string, (number | null)[]>;
}

export function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < items.length; index += size) result.push(items.slice(index, index + size));
  return result;
}

/** Every series of the answers, by key id, re-sampled on the grid (a missing interval is null). */
function onGrid(answers: HistoryAnswer[], times: number[], key: 'zone' | 'segment'): Map<string, (number | null)[]> {
  const index = new Map(times.map((time, position) => [time, position]));
  const result = new Map<string, (number | null)[]>();
  for (const answer of answers) {
    for (const series of answer.series) {
      const id = series.key[key];
      if (!id) continue;
      const values: (number | null)[] = times.map(() => null);
      for (const [time, value] of series.points) {
        const position = index.get(time);
        if (position !== undefined) values[position] = value;
      }
      result.set(id, values);
    }
  }
  return result;
}

export async function loadHistory(client: ApiClient, range: HistoryRange, metric: ZoneMetric, zoneIds: string[], segmentIds: string[]): Promise<HistoryFrames> {
  const kind = ZONE_METRICS.find((item) => item.metric === metric)!.kind;
  const window = { from: range.from, to: range.to, every: range.every };
  const zoneRequests = chunks(zoneIds, IDS_PER_REQUEST).map((ids) => client.history({ kind, metric, zone: ids.join(','), ...window }));
  const segmentRequests = (name: string) => chunks(segmentIds, IDS_PER_REQUEST).map((ids) => client.history({ kind: 'traffic', metric: name, segment: ids.join(','), ...window }));
  const [zones, speed, occupancy] = await Promise.all([Promise.all(zoneRequests), Promise.all(segmentRequests('averageVehicleSpeed')), Promise.all(segmentRequests('occupancy'))]);
  // The api aligns the range on its interval grid; take the grid from its answer.
  const first = zones[0] ?? speed[0];
  const start = first?.from ?? range.from;
  const end = first?.to ?? range.to;
  const times: number[] = [];
  for (let time = start; time < end; time += range.stepMs) times.push(time);
  return { times, metric, unit: zones[0]?.unit ?? null, zones: onGrid(zones, times, 'zone'), speed: onGrid(speed, times, 'segment'), occupancy: onGrid(occupancy, times, 'segment') };
}

/**
 * The CSV of exactly the zones the chart shows, however many: one export per batch the api accepts,
 * merged into one file in the api's own order (time, then zone in the order asked).
 */
export async function zonesCsv(client: ApiClient, range: HistoryRange, metric: ZoneMetric, zoneIds: string[]): Promise<Blob> {
  const kind = ZONE_METRICS.find((item) => item.metric === metric)!.kind;
  const texts = await Promise.all(chunks(zoneIds, IDS_PER_REQUEST).map(async (ids) => (await client.historyCsv({ kind, metric, zone: ids.join(','), from: range.from, to: range.to, every: range.every })).text()));
  const header = texts[0]?.split('\n', 1)[0] ?? '';
  const rows = texts.flatMap((text) => text.split('\n').slice(1).filter((line) => line !== ''));
  // Stable: within one time, the batches' zones keep the order they were asked in.
  const time = (row: string) => row.slice(0, row.indexOf(','));
  rows.sort((a, b) => (time(a) === time(b) ? 0 : time(a) < time(b) ? -1 : 1));
  return new Blob([[header, ...rows].join('\n') + '\n'], { type: 'text/csv;charset=utf-8' });
}

/** The traffic layer at one moment: each segment's speed, occupancy and the congestion they mean. */
export function trafficAt(frames: HistoryFrames, index: number, segments: FeatureCollection): FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: segments.features.map((segment): Feature => {
      const speed = frames.speed.get(segment.id)?.[index] ?? null;
      const occupancy = frames.occupancy.get(segment.id)?.[index] ?? null;
      const limit = typeof segment.properties.speedLimit === 'number' ? segment.properties.speedLimit : 50;
      const congestion = speed !== null && occupancy !== null ? congestionLevel({ averageVehicleSpeed: speed, occupancy }, limit) : undefined;
      return {
        ...segment,
        properties: {
          id: segment.id,
          name: segment.properties.name,
          nameEn: segment.properties.nameEn,
          speedLimit: segment.properties.speedLimit,
          averageVehicleSpeed: speed,
          occupancy,
          congestion: congestion ?? 'unknown',
        },
      };
    }),
  };
}

/** The zones at one moment, each with the chosen metric's mean as `historyValue`. */
export function zonesAt(frames: HistoryFrames, index: number, zones: FeatureCollection): FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: zones.features.map((zone) => ({ ...zone, properties: { id: zone.id, name: zone.properties.name, historyValue: frames.zones.get(zone.id)?.[index] ?? null } })),
  };
}
