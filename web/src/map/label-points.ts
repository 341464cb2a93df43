/**
 * One label point per zone: the centroid of its largest polygon. Labelling the polygons themselves would
 * repeat a district's name on every island and enclave of a MultiPolygon. The same point is where the map
 * flies to for a zone; a road segment's is its middle vertex.
 */
import type { Feature, FeatureCollection } from '../api/types.js';

type Ring = [number, number][];

/** Signed area and centroid of a ring (shoelace), in degrees: fine for ranking and placing at city scale. */
function ringCentroid(ring: Ring): { area: number; x: number; y: number } {
  let area = 0;
  let x = 0;
  let y = 0;
  for (let index = 0; index < ring.length - 1; index++) {
    const [x0, y0] = ring[index]!;
    const [x1, y1] = ring[index + 1]!;
    const cross = x0 * y1 - x1 * y0;
    area += cross;
    x += (x0 + x1) * cross;
    y += (y0 + y1) * cross;
  }
  area /= 2;
  return area === 0 ? { area: 0, x: ring[0]?.[0] ?? 0, y: ring[0]?.[1] ?? 0 } : { area: Math.abs(area), x: x / (6 * area), y: y / (6 * area) };
}

export function featureCentre(feature: Feature): [number, number] | undefined {
  const { type, coordinates } = feature.geometry;
  if (type === 'Point') return coordinates as [number, number];
  if (type === 'LineString') {
    const line = coordinates as [number, number][];
    return line[Math.floor(line.length / 2)];
  }
  const polygons = (type === 'Polygon' ? [coordinates] : type === 'MultiPolygon' ? coordinates : []) as Ring[][];
  const best = polygons.map((polygon) => ringCentroid(polygon[0] ?? [])).sort((a, b) => b.area - a.area)[0];
  return best ? [best.x, best.y] : undefined;
}

export function labelPoints(zones: FeatureCollection): GeoJSON.FeatureCollection {
  const features: GeoJSON.Feature[] = [];
  for (const zone of zones.features) {
    const centre = featureCentre(zone);
    if (centre) features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: centre }, properties: { id: zone.id, name: zone.properties.name } });
  }
  return { type: 'FeatureCollection', features };
}
