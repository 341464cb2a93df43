/**
 * The city's road segments (a GeoJSON FeatureCollection of named LineStrings — the demo city's ships in
 * simulators/data/roads.geojson; a city loads its own with ROADS_FILE). A traffic sensor belongs to the
 * segment named in its `segment` attribute, or else to the nearest segment within SNAP_METRES.
 */
import { readFileSync } from 'node:fs';

export interface RoadSegment {
  id: string;
  name: string;
  nameEn: string;
  kind: string;
  speedLimit: number;
  capacity: number;
  zone: string | undefined;
  coordinates: [number, number][];
}

export const SNAP_METRES = 75;
const DEFAULT_SPEED_LIMIT = 50;
const METRES_PER_DEGREE = 111_320;

export class RoadNetwork {
  readonly segments = new Map<string, RoadSegment>();

  constructor(segments: readonly RoadSegment[]) {
    for (const segment of segments) this.segments.set(segment.id, segment);
  }

  static load(file: string): RoadNetwork {
    const document = JSON.parse(readFileSync(file, 'utf8')) as { features?: { id?: unknown; geometry?: { type?: string; coordinates?: unknown }; properties?: Record<string, unknown> }[] };
    if (!Array.isArray(document.features)) throw new Error(`${file}: not a GeoJSON FeatureCollection`);
    const segments: RoadSegment[] = [];
    for (const [index, feature] of document.features.entries()) {
      const properties = feature.properties ?? {};
      const id = String(properties.id ?? feature.id ?? '');
      if (feature.geometry?.type !== 'LineString' || !Array.isArray(feature.geometry.coordinates) || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id)) {
        throw new Error(`${file}: feature ${index} must be a LineString with an id of A–Z a–z 0–9 _ . -`);
      }
      const text = (value: unknown, fallback: string) => (typeof value === 'string' && value ? value : fallback);
      const number = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback);
      segments.push({
        id,
        name: text(properties.name, id),
        nameEn: text(properties.nameEn, text(properties.name, id)),
        kind: text(properties.kind, 'street'),
        speedLimit: number(properties.speedLimit, DEFAULT_SPEED_LIMIT),
        capacity: number(properties.capacity, 2000),
        zone: typeof properties.zone === 'string' ? properties.zone : undefined,
        coordinates: feature.geometry.coordinates as [number, number][],
      });
    }
    return new RoadNetwork(segments);
  }

  /** The segment a device stands on: its `segment` attribute when that names a known segment, else the nearest one close by. */
  segmentFor(lon: number, lat: number, named: unknown): RoadSegment | undefined {
    if (typeof named === 'string') {
      const segment = this.segments.get(named);
      if (segment) return segment;
    }
    let best: RoadSegment | undefined;
    let bestDistance = SNAP_METRES;
    for (const segment of this.segments.values()) {
      const distance = distanceToLine(lon, lat, segment.coordinates);
      if (distance < bestDistance) {
        best = segment;
        bestDistance = distance;
      }
    }
    return best;
  }

  /** A point halfway along the segment's vertices, for labels and incident locations. */
  midpoint(segment: RoadSegment): [number, number] {
    return segment.coordinates[Math.floor(segment.coordinates.length / 2)] as [number, number];
  }
}

/** Metres from a point to a polyline, on a local flat projection (fine at city scale). */
function distanceToLine(lon: number, lat: number, line: readonly [number, number][]): number {
  const scaleX = METRES_PER_DEGREE * Math.cos((lat * Math.PI) / 180);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 1; i < line.length; i += 1) {
    const [ax, ay] = line[i - 1] as [number, number];
    const [bx, by] = line[i] as [number, number];
    const x1 = (ax - lon) * scaleX;
    const y1 = (ay - lat) * METRES_PER_DEGREE;
    const x2 = (bx - lon) * scaleX;
    const y2 = (by - lat) * METRES_PER_DEGREE;
    const dx = x2 - x1;
    const dy = y2 - y1;
    const lengthSquared = dx * dx + dy * dy;
    const t = lengthSquared === 0 ? 0 : Math.max(0, Math.min(1, -(x1 * dx + y1 * dy) / lengthSquared));
    best = Math.min(best, Math.hypot(x1 + t * dx, y1 + t * dy));
  }
  return best;
}
