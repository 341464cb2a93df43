/**
 * Zones: the areas of the city a device stands in (Da Nang's districts by default). They are data a
 * city loads from GeoJSON (`ZONES_FILE`), not code, so that new boundaries need no rebuild.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import type { MultiPolygon, Polygon, Position } from 'geojson';

export const DEFAULT_ZONES_FILE = fileURLToPath(new URL('../data/geo/danang-districts.geojson', import.meta.url));

/** Zone ids become InfluxDB tags and URL segments, so they follow the same rules as device ids. */
export const ZONE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** West, south, east, north. */
export type BBox = readonly [number, number, number, number];

export interface Zone {
  readonly id: string;
  readonly name: string;
  readonly geometry: Polygon | MultiPolygon;
  readonly bbox: BBox;
}

export class ZonesError extends Error {
  override name = 'ZonesError';
}

export class ZoneIndex {
  private readonly byId = new Map<string, Zone>();

  constructor(readonly zones: readonly Zone[]) {
    for (const zone of zones) {
      if (this.byId.has(zone.id)) throw new ZonesError(`two zones have the id "${zone.id}"`);
      this.byId.set(zone.id, zone);
    }
  }

  /** The first zone containing the point, in file order; boundaries count as inside. */
  zoneAt(lon: number, lat: number): Zone | undefined {
    if (!Number.isFinite(lon) || !Number.isFinite(lat)) return undefined;
    return this.zones.find(
      (zone) =>
        lon >= zone.bbox[0] &&
        lat >= zone.bbox[1] &&
        lon <= zone.bbox[2] &&
        lat <= zone.bbox[3] &&
        booleanPointInPolygon([lon, lat], zone.geometry),
    );
  }

  get(id: string): Zone | undefined {
    return this.byId.get(id);
  }
}

export function loadZones(file: string = DEFAULT_ZONES_FILE): ZoneIndex {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (error as Error).message;
    throw new ZonesError(`zones file ${file}: ${reason}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ZonesError(`zones file ${file} is not JSON: ${(error as Error).message}`);
  }
  return parseZones(document, file);
}

/** Builds the index from a parsed GeoJSON FeatureCollection; `source` names it in error messages. */
export function parseZones(document: unknown, source: string): ZoneIndex {
  if (!isObject(document) || document.type !== 'FeatureCollection' || !Array.isArray(document.features)) {
    throw new ZonesError(`${source} is not a GeoJSON FeatureCollection`);
  }
  const zones = document.features.map((feature: unknown, index): Zone => {
    const where = `${source}, feature ${index}`;
    if (!isObject(feature) || !isObject(feature.properties)) throw new ZonesError(`${where} has no properties`);
    const { name, id } = feature.properties;
    if (typeof name !== 'string' || name.trim() === '') throw new ZonesError(`${where} has no "name" property`);
    const geometry = feature.geometry;
    if (!isObject(geometry) || (geometry.type !== 'Polygon' && geometry.type !== 'MultiPolygon') || !Array.isArray(geometry.coordinates)) {
      throw new ZonesError(`${where} ("${name}") is not a Polygon or MultiPolygon`);
    }
    const zoneId = typeof id === 'string' || typeof id === 'number' ? String(id) : zoneSlug(name);
    if (!ZONE_ID_PATTERN.test(zoneId)) {
      throw new ZonesError(`${where} ("${name}") gives the zone id "${zoneId}"; ids are 1–64 of A–Z a–z 0–9 _ . -`);
    }
    const typed = geometry as unknown as Polygon | MultiPolygon;
    return { id: zoneId, name, geometry: typed, bbox: boundsOf(typed, where) };
  });
  if (zones.length === 0) throw new ZonesError(`${source} holds no zones`);
  return new ZoneIndex(zones);
}

const ADMINISTRATIVE_PREFIX = /^(quận|huyện|thành phố|thị xã|phường|xã)\s+/iu;

/**
 * An ASCII id from a Vietnamese unit name: "Quận Hải Châu" → "hai-chau". The prefix stays when the
 * rest is only a number ("Quận 1" → "quan-1"), since a bare "1" says nothing on a dashboard.
 */
export function zoneSlug(name: string): string {
  const trimmed = name.normalize('NFC').trim();
  const withoutPrefix = trimmed.replace(ADMINISTRATIVE_PREFIX, '');
  const base = /^\d+$/.test(withoutPrefix) ? trimmed : withoutPrefix;
  return base
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function boundsOf(geometry: Polygon | MultiPolygon, where: string): BBox {
  const polygons: unknown[] = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let west = Infinity;
  let south = Infinity;
  let east = -Infinity;
  let north = -Infinity;
  for (const polygon of polygons) {
    if (!Array.isArray(polygon)) throw new ZonesError(`${where} has malformed coordinates`);
    for (const ring of polygon as unknown[]) {
      if (!Array.isArray(ring) || ring.length < 4) throw new ZonesError(`${where} has a ring with fewer than 4 positions`);
      for (const position of ring as Position[]) {
        const [lon, lat] = Array.isArray(position) ? position : [];
        if (typeof lon !== 'number' || typeof lat !== 'number' || !Number.isFinite(lon) || !Number.isFinite(lat)) {
          throw new ZonesError(`${where} has a position that is not [lon, lat]`);
        }
        west = Math.min(west, lon);
        south = Math.min(south, lat);
        east = Math.max(east, lon);
        north = Math.max(north, lat);
      }
    }
  }
  if (west === Infinity) throw new ZonesError(`${where} has no coordinates`);
  return [west, south, east, north];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
