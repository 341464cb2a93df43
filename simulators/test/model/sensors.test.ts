import { describe, expect, it } from 'vitest';
import { validateReading } from '@city/devices';
import { loadCityData, type Placement, type RoadSegment } from '../../src/model/city-data.js';
import { emptyOverlay } from '../../src/model/scenarios.js';
import { readingFor, segmentFlow, type World } from '../../src/model/sensors.js';
import { isWeekend, sunTimes } from '../../src/model/time.js';
import { recentRain, windSpeed } from '../../src/model/weather.js';

const bridge: RoadSegment = {
  id: 'cau-rong',
  name: 'Cầu Rồng',
  nameEn: 'Dragon Bridge',
  street: 'Cầu Rồng',
  kind: 'bridge',
  lanes: 6,
  speedLimit: 60,
  capacity: 7200,
  zone: 'hai-chau',
  coordinates: [
    [108.2235, 16.0611],
    [108.2305, 16.0613],
  ],
};
const approach: RoadSegment = { ...bridge, id: 'nguyen-van-linh-1', name: 'Nguyễn Văn Linh', street: 'Nguyễn Văn Linh', kind: 'arterial' };
const at = (lon: number, lat: number) => ({ lon, lat, zone: 'hai-chau', name: 'x', nameEn: 'x' });
const devices: Record<string, Placement> = {
  traffic: { id: 'tr-1', kind: 'traffic', segment: 'cau-rong', camera: true, ...at(108.227, 16.0612) },
  air: { id: 'aq-1', kind: 'air_quality', nearSegment: 'cau-rong', ...at(108.22, 16.06) },
  noise: { id: 'no-1', kind: 'noise', nearSegment: 'cau-rong', ...at(108.22, 16.06) },
  water: { id: 'wl-1', kind: 'water_level', alertLevel: 0.2, dangerLevel: 0.4, baseLevel: 0, riverside: false, ...at(108.21, 16.06) },
  parking: { id: 'pk-1', kind: 'parking', totalSpotNumber: 120, ...at(108.22, 16.07) },
  light: { id: 'sl-1', kind: 'streetlight', segment: 'cau-rong', ...at(108.226, 16.0612) },
};

const world = (seed = 7): World => ({ seed, segments: new Map([bridge, approach].map((s) => [s.id, s])), overlay: emptyOverlay() });
/** A Wednesday in Da Nang, at a local hour (UTC+7). */
const wednesday = (hour: number) => Date.UTC(2025, 10, 19, hour - 7, 0, 0);

describe('the simulated city', () => {
  it('is deterministic: the same seed gives the same readings, another seed different ones', () => {
    const t = wednesday(8);
    for (const device of Object.values(devices)) {
      expect(readingFor(world(7), device, t)).toEqual(readingFor(world(7), device, t));
    }
    expect(readingFor(world(7), devices.air as Placement, t)).not.toEqual(readingFor(world(8), devices.air as Placement, t));
  });

  it('produces readings that pass the device contract', () => {
    for (let hour = 0; hour < 24; hour++) {
      for (const device of Object.values(devices)) {
        const t = wednesday(hour);
        const outcome = validateReading({ ts: t, ...readingFor(world(), device, t) }, device.kind, { now: t, maxFutureMs: 0, maxAgeMs: 1e12 });
        expect(outcome, `${device.kind} at ${hour}:00`).not.toHaveProperty('reason');
      }
    }
  });

  it('has the rhythm of a real day: rush-hour bridges are slower, the air dirtier, the streets louder than at 03:00', () => {
    const speed = (hour: number) => readingFor(world(), devices.traffic as Placement, wednesday(hour)).averageVehicleSpeed as number;
    const pm25 = (hour: number) => readingFor(world(), devices.air as Placement, wednesday(hour)).pm25 as number;
    const laeq = (hour: number) => readingFor(world(), devices.noise as Placement, wednesday(hour)).LAeq as number;
    expect(speed(8)).toBeLessThan(speed(3));
    expect(pm25(8)).toBeGreaterThan(pm25(3));
    expect(laeq(8)).toBeGreaterThan(laeq(3));
  });

  it('congests bridges before arterials at the same demand', () => {
    const t = wednesday(8);
    expect(segmentFlow(world(), bridge, t).speed).toBeLessThan(segmentFlow(world(), approach, t).speed);
  });

  it('switches streetlights at Da Nang dusk and dawn and dims them late at night', () => {
    const state = (hour: number) => readingFor(world(), devices.light as Placement, wednesday(hour)).powerState;
    expect(state(12)).toBe('off');
    expect(state(20)).toBe('on');
    expect(state(23.5)).toBe('low');
    const { sunrise, sunset } = sunTimes(wednesday(12));
    expect(sunrise).toBeGreaterThan(5.5);
    expect(sunrise).toBeLessThan(6.3);
    expect(sunset).toBeGreaterThan(17);
    expect(sunset).toBeLessThan(17.6);
  });

  it('collapses speed on a bridge with an accident', () => {
    const t = wednesday(10);
    const city = world();
    const before = segmentFlow(city, bridge, t).speed;
    city.overlay.accidents.push({ segment: 'cau-rong', startMs: t - 60_000, endMs: t + 3_600_000 });
    expect(segmentFlow(city, bridge, t).speed).toBeLessThan(before / 3);
  });

  describe('an accident on the real road network', () => {
    const city = loadCityData();
    const t = wednesday(10);
    const flows = (accident?: string) => {
      const w: World = { seed: 7, segments: city.segments, overlay: emptyOverlay() };
      if (accident) w.overlay.accidents.push({ segment: accident, startMs: t - 30 * 60_000, endMs: t + 3_600_000 });
      return new Map([...city.segments.values()].map((segment) => [segment.id, segmentFlow(w, segment, t)]));
    };
    const clear = flows();

    it.each([
      ['cau-rong', 'nguyen-van-linh-2', 'bach-dang-2'],
      ['dien-bien-phu-2', 'dien-bien-phu-1', 'dien-bien-phu-3'],
    ])('on %s backs up onto the connected approaches (%s, %s) and leaves the far side of the city alone', (scene, approach, other) => {
      const crashed = flows(scene);
      for (const id of [scene, approach, other]) expect(crashed.get(id)?.speed, id).toBeLessThan((clear.get(id)?.speed as number) * 0.8);
      expect(crashed.get(approach)?.occupancy).toBeGreaterThan(clear.get(approach)?.occupancy as number);
      expect(crashed.get(scene)?.speed).toBeLessThan(crashed.get(approach)?.speed as number);
      expect(crashed.get('le-van-hien-3')).toEqual(clear.get('le-van-hien-3'));
      expect(crashed.get('nguyen-tat-thanh-5')).toEqual(clear.get('nguyen-tat-thanh-5'));
    });

    it('fades with each junction from the scene', () => {
      const crashed = flows('cau-rong');
      const slowdown = (id: string) => (crashed.get(id)?.speed as number) / (clear.get(id)?.speed as number);
      // nguyen-van-linh-1 is two junctions from Cầu Rồng, through nguyen-van-linh-2.
      expect(slowdown('nguyen-van-linh-2')).toBeLessThan(slowdown('nguyen-van-linh-1'));
      expect(slowdown('nguyen-van-linh-1')).toBeLessThan(1);
    });
  });

  it('disperses PM2.5 and NO2 in the wind: at the same hour of a dry weekday, a windy morning is cleaner than a calm one', () => {
    const city = loadCityData();
    const stations = city.placements.filter((p) => p.kind === 'air_quality');
    const w: World = { seed: 2025, segments: city.segments, overlay: emptyOverlay() };
    const mornings = Array.from({ length: 60 }, (_, day) => Date.UTC(2025, 9, 1 + day, 8 - 7)).filter((t) => !isWeekend(t) && recentRain(w.seed, t, [], 6) === 0);
    const byWind = mornings.sort((a, b) => windSpeed(w.seed, a) - windSpeed(w.seed, b));
    const [calm, windy] = [byWind[0] as number, byWind.at(-1) as number];
    expect(windSpeed(w.seed, windy)).toBeGreaterThan(2 * windSpeed(w.seed, calm));
    const mean = (t: number, metric: string) => stations.reduce((sum, p) => sum + (readingFor(w, p, t)[metric] as number), 0) / stations.length;
    for (const metric of ['pm25', 'no2']) expect(mean(windy, metric), metric).toBeLessThan(0.8 * mean(calm, metric));
  });

  it('washes PM2.5 out in rain', () => {
    const t = wednesday(9);
    const city = world();
    const dry = readingFor(city, devices.air as Placement, t).pm25 as number;
    city.overlay.storms.push({ startMs: t - 2 * 3_600_000, endMs: t + 3_600_000, peakMmPerHour: 30 });
    expect(readingFor(city, devices.air as Placement, t).pm25).toBeLessThan(dry * 0.7);
  });

  it('raises low points past their alert level in a storm', () => {
    const t = wednesday(15);
    const city = world();
    const dry = readingFor(city, devices.water as Placement, t).currentLevel as number;
    city.overlay.storms.push({ startMs: t - 3 * 3_600_000, endMs: t + 3_600_000, peakMmPerHour: 90 });
    const flooded = readingFor(city, devices.water as Placement, t).currentLevel as number;
    expect(dry).toBeLessThan(0.2);
    expect(flooded).toBeGreaterThan(0.4);
  });
});
