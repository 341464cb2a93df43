import { describe, expect, it } from 'vitest';
import { isValidDeviceId, loadZones, KINDS } from '@city/devices';
import { loadCityData } from '../src/model/city-data.js';
import { emptyOverlay } from '../src/model/scenarios.js';
import { readingFor, type World } from '../src/model/sensors.js';

const city = loadCityData();
const zones = loadZones();
const MAINLAND = { west: 107.82, east: 108.34, south: 15.92, north: 16.22 };
const inMainland = ([lon, lat]: [number, number]) => lon >= MAINLAND.west && lon <= MAINLAND.east && lat >= MAINLAND.south && lat <= MAINLAND.north;

describe('the demo city data', () => {
  it('draws the main streets and bridges as named segments on the mainland', () => {
    const streets = new Set([...city.segments.values()].map((segment) => segment.street));
    for (const name of ['Bạch Đằng', 'Trần Phú', 'Nguyễn Văn Linh', 'Điện Biên Phủ', 'Võ Nguyên Giáp', 'Ngô Quyền', 'Cầu Rồng', 'Cầu Sông Hàn', 'Cầu Trần Thị Lý', 'Cầu Thuận Phước']) {
      expect(streets, name).toContain(name);
    }
    for (const segment of city.segments.values()) {
      expect(segment.coordinates.length).toBeGreaterThanOrEqual(2);
      expect(segment.coordinates.every(inMainland), segment.id).toBe(true);
      expect(zones.get(segment.zone), segment.id).toBeDefined();
      expect(segment.capacity).toBeGreaterThan(0);
    }
  });

  it('places a few hundred valid devices, every traffic sensor on a known segment and every segment observed', () => {
    const ids = city.placements.map((placement) => placement.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(city.placements.length).toBeGreaterThanOrEqual(200);
    for (const placement of city.placements) {
      expect(isValidDeviceId(placement.id), placement.id).toBe(true);
      expect(Object.keys(KINDS)).toContain(placement.kind);
      expect(inMainland([placement.lon, placement.lat]), placement.id).toBe(true);
      expect(zones.get(placement.zone), placement.id).toBeDefined();
      if (placement.segment) expect(city.segments.has(placement.segment), placement.id).toBe(true);
      if (placement.nearSegment) expect(city.segments.has(placement.nearSegment), placement.id).toBe(true);
    }
    const observed = new Set(city.placements.filter((placement) => placement.kind === 'traffic').map((placement) => placement.segment));
    expect([...city.segments.keys()].filter((id) => !observed.has(id))).toEqual([]);
    const cameras = city.placements.filter((placement) => placement.camera);
    expect(cameras.every((camera) => city.segments.get(camera.segment as string)?.kind === 'bridge')).toBe(true);
  });

  it('includes the two national air-quality stations where they stand', () => {
    const official = city.placements.filter((placement) => placement.official);
    const near = (lon: number, lat: number) => official.some((station) => Math.abs(station.lon - lon) < 0.001 && Math.abs(station.lat - lat) < 0.001);
    expect(near(108.1594, 16.0622)).toBe(true);
    expect(near(108.2647, 16.0034)).toBe(true);
  });

  it('has water-level sensors at low points and on the river, each with a danger level above its alert level', () => {
    const gauges = city.placements.filter((placement) => placement.kind === 'water_level');
    expect(gauges.length).toBeGreaterThanOrEqual(20);
    expect(gauges.filter((gauge) => gauge.riverside).length).toBeGreaterThanOrEqual(6);
    for (const gauge of gauges) expect(gauge.dangerLevel as number).toBeGreaterThan(gauge.alertLevel as number);
  });

  it('puts every device off the bridges inside the district it names', () => {
    for (const placement of city.placements.filter((p) => !p.camera)) {
      expect(zones.zoneAt(placement.lon, placement.lat)?.id, placement.id).toBe(placement.zone);
    }
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
