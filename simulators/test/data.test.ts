/**
 * The demo city's GeoJSON (simulators/data/): well-formed, complete, and where it says it is. Zones are
 * checked against the district polygons in devices/data/geo, the same file the registry uses.
 */
import { readFileSync } from 'node:fs';
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import type { Polygon, Position } from 'geojson';
import { describe, expect, it } from 'vitest';
import { DEVICE_KINDS, isValidDeviceId, loadZones } from '@city/devices';
import { DATA_DIR, loadCityData, type Placement } from '../src/model/city-data.js';
import { emptyOverlay } from '../src/model/scenarios.js';
import { readingFor, type World } from '../src/model/sensors.js';

interface Feature {
  type: string;
  id?: string;
  geometry: { type: string; coordinates: unknown };
  properties: Record<string, unknown>;
}
const readCollection = (name: string): { type: string; features: Feature[] } => JSON.parse(readFileSync(`${DATA_DIR}/${name}`, 'utf8'));
const files = { roads: readCollection('roads.geojson'), water: readCollection('water.geojson'), placements: readCollection('placements.geojson') };

const city = loadCityData();
const zones = loadZones();
const MAINLAND = { west: 107.82, east: 108.34, south: 15.92, north: 16.22 };
const inMainland = ([lon, lat]: Position) => (lon as number) >= MAINLAND.west && (lon as number) <= MAINLAND.east && (lat as number) >= MAINLAND.south && (lat as number) <= MAINLAND.north;
const river = files.water.features.find((feature) => feature.properties.kind === 'river')?.geometry as Polygon;
const inRiver = (point: Position) => booleanPointInPolygon(point, river);
const inZone = (point: Position, zone: string) => {
  const geometry = zones.get(zone)?.geometry;
  return geometry !== undefined && zone !== 'hoang-sa' && booleanPointInPolygon(point, geometry);
};

const METRES_PER_DEGREE = 111_320;
/** Metres from a point to a polyline, flat-earth (fine at city scale). */
function distanceToLine([lon, lat]: Position, line: Position[]): number {
  const kx = Math.cos(((lat as number) * Math.PI) / 180) * METRES_PER_DEGREE;
  let best = Infinity;
  for (let i = 1; i < line.length; i++) {
    const [ax, ay] = line[i - 1] as [number, number];
    const [bx, by] = line[i] as [number, number];
    const [dx, dy] = [(bx - ax) * kx, (by - ay) * METRES_PER_DEGREE];
    const [px, py] = [((lon as number) - ax) * kx, ((lat as number) - ay) * METRES_PER_DEGREE];
    const t = Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy || 1)));
    best = Math.min(best, Math.hypot(px - t * dx, py - t * dy));
  }
  return best;
}
const metresBetween = ([ax, ay]: Position, [bx, by]: Position) =>
  Math.hypot(((bx as number) - (ax as number)) * Math.cos(((ay as number) * Math.PI) / 180), (by as number) - (ay as number)) * METRES_PER_DEGREE;
const lengthOf = (line: Position[]) => line.slice(1).reduce((total, point, i) => total + metresBetween(line[i] as Position, point), 0);
/** The point half-way along a polyline. */
function midpointOf(line: Position[]): Position {
  let remaining = lengthOf(line) / 2;
  for (let i = 1; i < line.length; i++) {
    const [a, b] = [line[i - 1] as [number, number], line[i] as [number, number]];
    const step = metresBetween(a, b);
    if (remaining <= step) return [a[0] + ((b[0] - a[0]) * remaining) / step, a[1] + ((b[1] - a[1]) * remaining) / step];
    remaining -= step;
  }
  return line.at(-1) as Position;
}
const isCoordinate = (value: unknown) =>
  Array.isArray(value) && value.length === 2 && value.every((n) => typeof n === 'number' && Number.isFinite(n) && Math.abs(n * 1e5 - Math.round(n * 1e5)) < 1e-6);

const STREETS = [
  'Bạch Đằng', 'Trần Phú', 'Nguyễn Văn Linh', 'Điện Biên Phủ', 'Võ Nguyên Giáp', 'Ngô Quyền', 'Nguyễn Tất Thành', 'Lê Duẩn', 'Hùng Vương',
  'Phạm Văn Đồng', '2 Tháng 9', 'Tôn Đức Thắng', 'Cầu Rồng', 'Cầu Sông Hàn', 'Cầu Trần Thị Lý', 'Cầu Thuận Phước', 'Cầu Nguyễn Văn Trỗi', 'Cầu Tiên Sơn',
];
const ZONE_IDS = ['hai-chau', 'son-tra', 'thanh-khe', 'lien-chieu', 'ngu-hanh-son', 'cam-le', 'hoa-vang'];

describe('the demo city files', () => {
  it('are GeoJSON FeatureCollections of the right geometries, coordinates [lon, lat] to 5 decimals', () => {
    for (const [name, collection] of Object.entries(files)) {
      expect(collection.type, name).toBe('FeatureCollection');
      expect(collection.features.length, name).toBeGreaterThan(0);
      for (const feature of collection.features) expect(feature.type, name).toBe('Feature');
    }
    for (const road of files.roads.features) {
      expect(road.geometry.type).toBe('LineString');
      const line = road.geometry.coordinates as unknown[];
      expect(line.length, road.id).toBeGreaterThanOrEqual(2);
      expect(line.every(isCoordinate), road.id).toBe(true);
    }
    for (const placement of files.placements.features) {
      expect(placement.geometry.type).toBe('Point');
      expect(isCoordinate(placement.geometry.coordinates), String(placement.properties.id)).toBe(true);
    }
    for (const water of files.water.features) {
      expect(['river', 'coast']).toContain(water.properties.kind);
      expect(typeof water.properties.name).toBe('string');
      expect(typeof water.properties.nameEn).toBe('string');
      if (water.properties.kind === 'river') {
        expect(water.geometry.type).toBe('Polygon');
        const ring = (water.geometry.coordinates as Position[][])[0] as Position[];
        expect(ring.at(0)).toEqual(ring.at(-1));
      } else {
        expect(water.geometry.type).toBe('LineString');
      }
    }
    expect(river).toBeDefined();
  });
});

describe('the road network', () => {
  const roads = files.roads.features;

  it('has at least 40 segments with unique, stable ids covering the main streets and the six Hàn bridges', () => {
    expect(roads.length).toBeGreaterThanOrEqual(40);
    const ids = roads.map((road) => road.properties.id as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const road of roads) {
      expect(road.id, String(road.properties.id)).toBe(road.properties.id);
      expect(road.properties.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    }
    const streets = new Set(roads.map((road) => road.properties.street));
    for (const street of STREETS) expect(streets, street).toContain(street);
    for (const street of streets) {
      const parts = roads.filter((road) => road.properties.street === street);
      expect(parts.length, String(street)).toBeLessThanOrEqual(6);
      if (parts[0]?.properties.kind !== 'bridge') expect(parts.length, String(street)).toBeGreaterThanOrEqual(2);
    }
  });

  it('gives every segment plausible properties, a length of about 0.5 to 2 km and the zone of its midpoint', () => {
    for (const { properties: p, geometry } of roads) {
      const id = String(p.id);
      expect(typeof p.name === 'string' && typeof p.nameEn === 'string' && typeof p.street === 'string', id).toBe(true);
      expect(['bridge', 'arterial', 'coastal', 'street'], id).toContain(p.kind);
      expect(Number.isInteger(p.lanes) && (p.lanes as number) >= 1, id).toBe(true);
      expect(p.speedLimit as number, id).toBeGreaterThanOrEqual(40);
      expect(p.speedLimit as number, id).toBeLessThanOrEqual(80);
      expect(p.capacity as number, id).toBeGreaterThan(0);
      expect(p.capacity as number, id).toBeLessThanOrEqual((p.lanes as number) * 1800);
      expect(ZONE_IDS, id).toContain(p.zone);
      const line = geometry.coordinates as Position[];
      expect(line.every(inMainland), id).toBe(true);
      const metres = lengthOf(line);
      expect(metres, id).toBeGreaterThanOrEqual(450);
      expect(metres, id).toBeLessThanOrEqual(2_100);
      if (p.kind !== 'bridge') expect(line.length, id).toBeGreaterThanOrEqual(3);
    }
    // The zone of the midpoint; Cầu Thuận Phước's is over the river mouth, which the districts count as the bay.
    for (const segment of city.segments.values()) {
      const [lon, lat] = midpointOf(segment.coordinates) as [number, number];
      const zone = zones.zoneAt(lon, lat)?.id;
      if (zone) expect(zone, segment.id).toBe(segment.zone);
      else expect(segment.id).toBe('cau-thuan-phuoc');
    }
  });

  it('puts bridges across the Hàn and the streets on its banks', () => {
    for (const segment of city.segments.values()) {
      const line = segment.coordinates;
      if (segment.kind === 'bridge') {
        expect(inRiver(line[0] as Position), `${segment.id} starts on land`).toBe(false);
        expect(inRiver(line.at(-1) as Position), `${segment.id} ends on land`).toBe(false);
        const step = 1 / 20;
        const crossing = Array.from({ length: 19 }, (_, i) => (i + 1) * step).some((f) => {
          const [a, b] = [line[0] as [number, number], line.at(-1) as [number, number]];
          return inRiver([a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f]);
        });
        expect(crossing, `${segment.id} crosses the river`).toBe(true);
      } else {
        expect(line.some(inRiver), `${segment.id} stays out of the river`).toBe(false);
      }
    }
  });
});

describe('the device placements', () => {
  const placements = city.placements;
  const ofKind = (kind: Placement['kind']) => placements.filter((placement) => placement.kind === kind);
  const at = (placement: Placement): Position => [placement.lon, placement.lat];

  it('are a few hundred devices with unique, valid ids and known kinds', () => {
    expect(placements.length).toBeGreaterThanOrEqual(250);
    const ids = placements.map((placement) => placement.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const placement of placements) {
      expect(isValidDeviceId(placement.id), placement.id).toBe(true);
      expect(placement.id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
      expect(DEVICE_KINDS, placement.id).toContain(placement.kind);
      expect(placement.name && placement.nameEn, placement.id).toBeTruthy();
      if (placement.segment) expect(city.segments.has(placement.segment), placement.id).toBe(true);
      if (placement.nearSegment) expect(city.segments.has(placement.nearSegment), placement.id).toBe(true);
    }
  });

  it('stand inside the mainland district their zone names', () => {
    for (const placement of placements) {
      expect(inMainland(at(placement)), placement.id).toBe(true);
      expect(ZONE_IDS, placement.id).toContain(placement.zone);
      expect(inZone(at(placement), placement.zone), `${placement.id} in ${placement.zone}`).toBe(true);
    }
  });

  it('observe every road segment with one or two traffic sensors on its line, cameras on the bridges', () => {
    const traffic = ofKind('traffic');
    for (const segment of city.segments.values()) {
      const sensors = traffic.filter((sensor) => sensor.segment === segment.id);
      expect(sensors.length, segment.id).toBeGreaterThanOrEqual(1);
      expect(sensors.length, segment.id).toBeLessThanOrEqual(2);
      for (const sensor of sensors) {
        expect(distanceToLine(at(sensor), segment.coordinates), sensor.id).toBeLessThan(3);
        expect(sensor.camera === true, sensor.id).toBe(segment.kind === 'bridge');
      }
    }
    expect(traffic.every((sensor) => sensor.segment)).toBe(true);
  });

  it('include the two national air-quality stations where they stand, among about a dozen', () => {
    const stations = ofKind('air_quality');
    expect(stations.length).toBeGreaterThanOrEqual(10);
    const official = stations.filter((station) => station.official);
    const near = (lon: number, lat: number) => official.some((station) => Math.abs(station.lon - lon) < 0.0005 && Math.abs(station.lat - lat) < 0.0005);
    expect(official.length).toBeGreaterThanOrEqual(2);
    expect(near(108.1594, 16.0622)).toBe(true);
    expect(near(108.2647, 16.0034)).toBe(true);
  });

  it('put noise meters and roadside stations by the segment they name', () => {
    expect(ofKind('noise').length).toBeGreaterThanOrEqual(20);
    for (const placement of placements.filter((p) => p.nearSegment)) {
      const segment = city.segments.get(placement.nearSegment as string);
      expect(distanceToLine(at(placement), segment?.coordinates ?? []), placement.id).toBeLessThan(400);
    }
    expect(ofKind('noise').every((meter) => meter.nearSegment)).toBe(true);
  });

  it('have water-level sensors at low points and on the river banks, each with a danger level above its alert level', () => {
    const gauges = ofKind('water_level');
    expect(gauges.length).toBeGreaterThanOrEqual(20);
    for (const gauge of gauges) {
      expect(gauge.dangerLevel as number, gauge.id).toBeGreaterThan(gauge.alertLevel as number);
      expect(typeof gauge.baseLevel, gauge.id).toBe('number');
      expect(typeof gauge.riverside, gauge.id).toBe('boolean');
    }
    const riverside = gauges.filter((gauge) => gauge.riverside);
    expect(riverside.length).toBeGreaterThanOrEqual(6);
    const ring = river.coordinates[0] as Position[];
    for (const gauge of riverside) {
      expect(inRiver(at(gauge)), `${gauge.id} stands on the bank, not in the water`).toBe(false);
      expect(distanceToLine(at(gauge), ring), gauge.id).toBeLessThan(150);
    }
  });

  it('have parking sites with capacities and streetlights along many segments, all on land', () => {
    const parking = ofKind('parking');
    expect(parking.length).toBeGreaterThanOrEqual(15);
    expect(parking.every((site) => Number.isInteger(site.totalSpotNumber) && (site.totalSpotNumber as number) > 0)).toBe(true);
    const lights = ofKind('streetlight');
    expect(lights.length).toBeGreaterThanOrEqual(100);
    expect(new Set(lights.map((light) => light.segment)).size).toBeGreaterThanOrEqual(30);
    for (const light of lights) expect(distanceToLine(at(light), city.segments.get(light.segment as string)?.coordinates ?? []), light.id).toBeLessThan(3);
    for (const placement of placements.filter((p) => !p.camera)) expect(inRiver(at(placement)), placement.id).toBe(false);
  });
});

describe('a simulated day in the demo city', () => {
  const world: World = { seed: 2025, segments: city.segments, overlay: emptyOverlay() };
  /** Tuesday 18 November 2025, local hour (UTC+7). */
  const at = (hour: number) => Date.UTC(2025, 10, 18, hour - 7);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const of = (kind: string, metric: string, hour: number, filter: (p: (typeof city.placements)[number]) => boolean = () => true) =>
    mean(city.placements.filter((p) => p.kind === kind && filter(p)).map((p) => readingFor(world, p, at(hour))[metric] as number));

  it('is slower on the bridges and dirtier in the air at 08:00 than at 03:00, with the lights on at 23:00 and off at noon', () => {
    const onBridge = (p: (typeof city.placements)[number]) => city.segments.get(p.segment ?? '')?.kind === 'bridge';
    expect(of('traffic', 'averageVehicleSpeed', 8, onBridge)).toBeLessThan(of('traffic', 'averageVehicleSpeed', 3, onBridge));
    expect(of('air_quality', 'pm25', 8)).toBeGreaterThan(of('air_quality', 'pm25', 3));
    const lights = (hour: number) => city.placements.filter((p) => p.kind === 'streetlight').map((p) => readingFor(world, p, at(hour)).powerState);
    expect(lights(12).every((state) => state === 'off')).toBe(true);
    const late = lights(23);
    expect(late.filter((state) => state !== 'off').length / late.length).toBeGreaterThan(0.95);
  });
});
