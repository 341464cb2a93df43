/** The demo city as data: road segments and device placements (GeoJSON in simulators/data/). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DeviceKind } from '@city/devices';

export interface RoadSegment {
  id: string;
  name: string;
  nameEn: string;
  street: string;
  kind: 'bridge' | 'arterial' | 'coastal' | 'street';
  lanes: number;
  speedLimit: number;
  capacity: number;
  zone: string;
  coordinates: [number, number][];
}

export interface Placement {
  id: string;
  kind: DeviceKind;
  name: string;
  nameEn: string;
  zone: string;
  lon: number;
  lat: number;
  segment?: string;
  nearSegment?: string;
  camera?: boolean;
  official?: boolean;
  alertLevel?: number;
  dangerLevel?: number;
  baseLevel?: number;
  riverside?: boolean;
  totalSpotNumber?: number;
}

export interface CityData {
  segments: Map<string, RoadSegment>;
  placements: Placement[];
}

export const DATA_DIR = fileURLToPath(new URL('../../data/', import.meta.url));

interface Collection<G, P> {
  features: { geometry: G; properties: P }[];
}

export function loadCityData(dir = DATA_DIR): CityData {
  const roads = JSON.parse(readFileSync(`${dir}/roads.geojson`, 'utf8')) as Collection<{ coordinates: [number, number][] }, Omit<RoadSegment, 'coordinates'>>;
  const placements = JSON.parse(readFileSync(`${dir}/placements.geojson`, 'utf8')) as Collection<
    { coordinates: [number, number] },
    Omit<Placement, 'lon' | 'lat'>
  >;
  return {
    segments: new Map(roads.features.map((feature) => [feature.properties.id, { ...feature.properties, coordinates: feature.geometry.coordinates }])),
    placements: placements.features.map((feature) => ({
      ...feature.properties,
      lon: feature.geometry.coordinates[0],
      lat: feature.geometry.coordinates[1],
    })),
  };
}
