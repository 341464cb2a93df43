/**
 * The map's layers as GeoJSON, built from live state: what the console draws, and what any GIS can load.
 * Feature ids are the device, segment, incident or zone ids, so a client can apply stream deltas to them.
 */
import type { DeviceKind, ZoneIndex } from '@city/devices';
import type { LiveState } from '../live/live-state.js';
import type { RoadNetwork } from '../live/road-network.js';
import type { LiveDevice } from '../live/types.js';
import { aqiCategory } from '../live/vn-aqi.js';

export const LAYERS = ['traffic', 'environment', 'flood', 'parking', 'streetlights', 'incidents', 'zones'] as const;
export type LayerName = (typeof LAYERS)[number];

export interface Feature {
  type: 'Feature';
  id: string;
  geometry: { type: string; coordinates: unknown };
  properties: Record<string, unknown>;
}

export interface FeatureCollection {
  type: 'FeatureCollection';
  features: Feature[];
}

/** What the incidents layer needs of an incident; the incident store's records fit it. */
export interface MappedIncident {
  id: string;
  type: string;
  category: string;
  severity: string;
  status: string;
  lon: number;
  lat: number;
  zone?: string | null | undefined;
  description?: string | null | undefined;
  openedAt: number;
}

export interface LayerSources {
  live: LiveState;
  roads: RoadNetwork;
  zones: ZoneIndex;
  openIncidents(): MappedIncident[];
}

const LAYER_KINDS: Partial<Record<LayerName, readonly DeviceKind[]>> = {
  environment: ['air_quality', 'noise'],
  flood: ['water_level'],
  parking: ['parking'],
  streetlights: ['streetlight'],
};

export function buildLayer(layer: LayerName, sources: LayerSources): FeatureCollection {
  switch (layer) {
    case 'traffic':
      return collection([...sources.roads.segments.keys()].map((id) => segmentFeature(id, sources)).filter((feature) => feature !== undefined));
    case 'incidents':
      return collection(sources.openIncidents().map(incidentFeature));
    case 'zones':
      return zonesLayer(sources);
    default: {
      const kinds = LAYER_KINDS[layer] ?? [];
      return collection([...sources.live.devices.values()].filter((device) => kinds.includes(device.kind)).map(deviceFeature));
    }
  }
}

export function segmentFeature(id: string, { live, roads }: Pick<LayerSources, 'live' | 'roads'>): Feature | undefined {
  const segment = roads.segments.get(id);
  const state = live.segmentState(id);
  if (!segment || !state) return undefined;
  return {
    type: 'Feature',
    id,
    geometry: { type: 'LineString', coordinates: segment.coordinates },
    properties: {
      id,
      name: segment.name,
      nameEn: segment.nameEn,
      roadKind: segment.kind,
      zone: segment.zone ?? null,
      speedLimit: segment.speedLimit,
      capacity: segment.capacity,
      sensors: state.sensors,
      reporting: state.reporting,
      averageVehicleSpeed: round(state.averageVehicleSpeed),
      intensity: round(state.intensity),
      occupancy: round(state.occupancy, 3),
      congestion: state.congestion ?? 'unknown',
      updatedAt: state.updatedAt ?? null,
    },
  };
}

export function deviceFeature(device: LiveDevice): Feature {
  const properties: Record<string, unknown> = {
    id: device.id,
    kind: device.kind,
    name: device.name,
    zone: device.zone,
    presence: device.presence,
    readingTs: device.readingTs ?? null,
    ...device.reading,
    ...device.derived,
  };
  if (device.derived.aqi !== undefined) properties.aqiColor = aqiCategory(device.derived.aqi).color;
  if (device.kind === 'water_level') {
    properties.alertLevel = device.attributes.alertLevel ?? null;
    properties.dangerLevel = device.attributes.dangerLevel ?? null;
  }
  if (device.kind === 'streetlight') properties.fault = streetlightFault(device);
  if (device.segment) properties.segment = device.segment;
  return { type: 'Feature', id: device.id, geometry: { type: 'Point', coordinates: [device.lon, device.lat] }, properties };
}

/** A lamp that says it is lit but draws next to no power has failed; one that is gone cannot be judged. */
export function streetlightFault(device: LiveDevice): string | null {
  if (device.presence === 'offline') return 'offline';
  const reading = device.reading;
  if (!reading) return null;
  if ((reading.powerState === 'on' || reading.powerState === 'low') && typeof reading.powerConsumption === 'number' && reading.powerConsumption < 1) return 'lamp_failure';
  return null;
}

function incidentFeature(incident: MappedIncident): Feature {
  return {
    type: 'Feature',
    id: incident.id,
    geometry: { type: 'Point', coordinates: [incident.lon, incident.lat] },
    properties: {
      id: incident.id,
      type: incident.type,
      category: incident.category,
      severity: incident.severity,
      status: incident.status,
      zone: incident.zone ?? null,
      description: incident.description ?? null,
      openedAt: incident.openedAt,
    },
  };
}

function zonesLayer({ live, zones, openIncidents }: LayerSources): FeatureCollection {
  const summary = new Map<string, { devices: number; online: number; offline: number; aqiMax: number | null; pm25: number[]; noise: number[]; incidents: number }>();
  for (const zone of zones.zones) summary.set(zone.id, { devices: 0, online: 0, offline: 0, aqiMax: null, pm25: [], noise: [], incidents: 0 });
  for (const device of live.devices.values()) {
    const entry = summary.get(device.zone);
    if (!entry) continue;
    entry.devices += 1;
    if (device.presence === 'online') entry.online += 1;
    if (device.presence === 'offline') entry.offline += 1;
    if (device.derived.aqi !== undefined) entry.aqiMax = Math.max(entry.aqiMax ?? 0, device.derived.aqi);
    if (typeof device.reading?.pm25 === 'number') entry.pm25.push(device.reading.pm25);
    if (typeof device.reading?.LAeq === 'number') entry.noise.push(device.reading.LAeq);
  }
  for (const incident of openIncidents()) {
    const entry = incident.zone ? summary.get(incident.zone) : undefined;
    if (entry) entry.incidents += 1;
  }
  return collection(
    zones.zones.map((zone) => {
      const entry = summary.get(zone.id);
      return {
        type: 'Feature' as const,
        id: zone.id,
        geometry: zone.geometry,
        properties: {
          id: zone.id,
          name: zone.name,
          devices: entry?.devices ?? 0,
          online: entry?.online ?? 0,
          offline: entry?.offline ?? 0,
          aqiMax: entry?.aqiMax ?? null,
          aqiColor: entry?.aqiMax != null ? aqiCategory(entry.aqiMax).color : null,
          pm25Mean: round(mean(entry?.pm25 ?? [])),
          noiseMean: round(mean(entry?.noise ?? [])),
          openIncidents: entry?.incidents ?? 0,
        },
      };
    }),
  );
}

function collection(features: Feature[]): FeatureCollection {
  return { type: 'FeatureCollection', features };
}

function mean(values: number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function round(value: number | undefined, digits = 1): number | null {
  if (value === undefined) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
