/** The city at a glance, from the live store: what the summary strip shows. */
import { SEVERITIES, type Severity } from '../api/types.js';
import type { LiveStore } from '../live/live-store.js';
import { aqiCategory } from '../../../api/src/live/vn-aqi.js';

export interface CitySummary {
  online: number;
  offline: number;
  unknown: number;
  incidents: Record<Severity, number>;
  worstAqiZone: { id: string; name: string; aqi: number; category: number } | undefined;
  congested: { id: string; name: string; nameEn: string; congestion: string; speed: number | null }[];
}

const CONGESTION_RANK: Record<string, number> = { severe: 3, heavy: 2, moderate: 1 };

export function citySummary(store: LiveStore, topSegments = 3): CitySummary {
  const { online, offline, unknown } = store.presence;
  const incidents = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  for (const incident of store.incidents.values()) incidents[incident.severity] += 1;

  let worstAqiZone: CitySummary['worstAqiZone'];
  for (const zone of store.collection('zones').features) {
    const aqi = zone.properties.aqiMax;
    if (typeof aqi !== 'number' || (worstAqiZone && worstAqiZone.aqi >= aqi)) continue;
    worstAqiZone = { id: zone.id, name: String(zone.properties.name ?? zone.id), aqi, category: aqiCategory(aqi).category };
  }

  const congested = store
    .collection('traffic')
    .features.filter((segment) => CONGESTION_RANK[String(segment.properties.congestion)] !== undefined)
    .sort((a, b) => {
      const rank = CONGESTION_RANK[String(b.properties.congestion)]! - CONGESTION_RANK[String(a.properties.congestion)]!;
      return rank !== 0 ? rank : Number(b.properties.occupancy ?? 0) - Number(a.properties.occupancy ?? 0);
    })
    .slice(0, topSegments)
    .map((segment) => ({
      id: segment.id,
      name: String(segment.properties.name ?? segment.id),
      nameEn: String(segment.properties.nameEn ?? segment.properties.name ?? segment.id),
      congestion: String(segment.properties.congestion),
      speed: typeof segment.properties.averageVehicleSpeed === 'number' ? segment.properties.averageVehicleSpeed : null,
    }));

  return { online, offline, unknown, incidents, worstAqiZone, congested };
}


/**
 * `next`, with each part that equals `previous`'s kept as the same object, and `previous` itself when all
 * do: the strip's memoised parts then re-render only for figures that changed.
 */
export function stableSummary(previous: CitySummary | undefined, next: CitySummary): CitySummary {
  if (!previous) return next;
  const kept: CitySummary = {
    ...next,
    incidents: sameFields(previous.incidents, next.incidents) ? previous.incidents : next.incidents,
    worstAqiZone: sameFields(previous.worstAqiZone, next.worstAqiZone) ? previous.worstAqiZone : next.worstAqiZone,
    congested:
      previous.congested.length === next.congested.length && previous.congested.every((segment, index) => sameFields(segment, next.congested[index])) ? previous.congested : next.congested,
  };
  return (Object.keys(kept) as (keyof CitySummary)[]).every((key) => kept[key] === previous[key]) ? previous : kept;
}

function sameFields<T extends object>(a: T | undefined, b: T | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const keys = Object.keys(a) as (keyof T)[];
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
