import { afterEach, describe, expect, it } from 'vitest';
import { Bench, MINUTE, SECOND, T0, liveDevice, report } from './fixtures.js';

let bench: Bench;
afterEach(() => bench?.close());

const riverSensor = () => liveDevice('dn-wl-river', 'water_level', { name: 'Cầu Rồng', attributes: { alertLevel: 1.5, dangerLevel: 2.5 } });
const actions = (id: string) => bench.store.get(id)?.history.map((entry) => entry.action);

describe('a threshold with a duration', () => {
  it('opens air_pollution only once VN_AQI has stayed above 150 for 10 minutes', () => {
    bench = new Bench();
    const station = liveDevice('dn-air-1', 'air_quality', { name: 'Hòa Khánh', zone: 'lien-chieu' });
    report(bench.engine, station, T0, { pm25: 90 }, { aqi: 170 });
    report(bench.engine, station, T0 + 5 * MINUTE, { pm25: 92 }, { aqi: 172 });
    bench.engine.tick(T0 + 10 * MINUTE - SECOND);
    expect(bench.incidents()).toEqual([]);

    bench.engine.tick(T0 + 10 * MINUTE);
    const [incident, ...others] = bench.incidents();
    expect(others).toEqual([]);
    expect(incident).toMatchObject({
      type: 'air_pollution',
      category: 'environment',
      subCategory: 'airPollution',
      severity: 'high',
      status: 'open',
      source: 'rule',
      subject: { type: 'device', id: 'dn-air-1' },
      deviceId: 'dn-air-1',
      zone: 'lien-chieu',
      value: 172,
      openedAt: T0 + 10 * MINUTE,
    });
    expect(incident?.id).toMatch(/^inc-[0-9A-Z]{26}$/);
    expect(incident?.description).toContain('Hòa Khánh');
    expect(incident?.history).toEqual([{ at: T0 + 10 * MINUTE, actor: 'system', action: 'open', severity: 'high' }]);
  });

  it('forgets a condition that ends before its duration, and starts counting again when it returns', () => {
    bench = new Bench();
    const station = liveDevice('dn-air-1', 'air_quality');
    report(bench.engine, station, T0, {}, { aqi: 170 });
    report(bench.engine, station, T0 + 5 * MINUTE, {}, { aqi: 120 });
    report(bench.engine, station, T0 + 8 * MINUTE, {}, { aqi: 170 });
    report(bench.engine, station, T0 + 13 * MINUTE, {}, { aqi: 170 });
    bench.engine.tick(T0 + 18 * MINUTE - SECOND);
    expect(bench.incidents()).toEqual([]);
    bench.engine.tick(T0 + 18 * MINUTE);
    expect(bench.incidents().map((incident) => incident.openedAt)).toEqual([T0 + 18 * MINUTE]);
  });

  it('does not judge a stale reading restored at start', () => {
    bench = new Bench();
    const station = liveDevice('dn-air-1', 'air_quality');
    station.lastSeen = T0 - 2 * 3600_000;
    station.derived = { aqi: 250 };
    station.reading = { pm25: 200 };
    for (let now = T0; now <= T0 + 30 * MINUTE; now += MINUTE) {
      bench.engine.observe(station, now);
      bench.engine.tick(now);
    }
    expect(bench.incidents('air_pollution')).toEqual([]);
  });
});

describe('hysteresis and flapping', () => {
  it('a level wobbling across the alert level within the hysteresis margin is one incident, 2 minutes after it first crossed', () => {
    bench = new Bench();
    const sensor = riverSensor();
    bench.run(T0, T0 + 30 * MINUTE, 5 * SECOND, (now) => report(bench.engine, sensor, now, { currentLevel: ((now - T0) / 5000) % 2 === 0 ? 1.52 : 1.47 }));
    const incidents = bench.incidents();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ type: 'flood_warning', category: 'naturalDisaster', subCategory: 'flood', severity: 'medium', status: 'open', openedAt: T0 + 2 * MINUTE });
    expect(incidents[0]?.history).toHaveLength(1);
  });

  it('a sensor flapping across its whole range every 5 s for an hour keeps its one incident, which clears 30 minutes after the flapping stops', () => {
    bench = new Bench();
    const sensor = riverSensor();
    bench.run(T0, T0 + 3 * MINUTE, 5 * SECOND, (now) => report(bench.engine, sensor, now, { currentLevel: 1.6 }));
    const flapFrom = T0 + 3 * MINUTE + 5 * SECOND;
    const flapTo = flapFrom + 60 * MINUTE;
    bench.run(flapFrom, flapTo, 5 * SECOND, (now) => report(bench.engine, sensor, now, { currentLevel: ((now - flapFrom) / 5000) % 2 === 0 ? 1.0 : 1.6 }));
    const [incident, ...others] = bench.incidents();
    expect(others).toEqual([]);
    expect(incident?.status).toBe('open');
    expect(actions(incident?.id ?? '')).toEqual(['open']);

    // The flapping ended on a low reading at flapTo: the condition has been gone since.
    const calmFrom = flapTo;
    bench.run(calmFrom + 5 * SECOND, calmFrom + 30 * MINUTE - 5 * SECOND, 5 * SECOND, (now) => report(bench.engine, sensor, now, { currentLevel: 1.0 }));
    expect(bench.store.get(incident?.id ?? '')?.status).toBe('open');
    report(bench.engine, sensor, calmFrom + 30 * MINUTE, { currentLevel: 1.0 });
    const cleared = bench.store.get(incident?.id ?? '');
    expect(cleared).toMatchObject({ status: 'resolved', resolution: 'cleared', resolvedBy: 'system', resolvedAt: calmFrom + 30 * MINUTE });
    expect(cleared?.history.at(-1)).toMatchObject({ action: 'clear', actor: 'system', at: calmFrom + 30 * MINUTE });
    expect(bench.incidents()).toHaveLength(1);
  });

  it('a congestion that eases within the hysteresis margin does not end', () => {
    bench = new Bench();
    const sensor = liveDevice('dn-traffic-1', 'traffic');
    bench.run(T0, T0 + 20 * MINUTE, MINUTE, (now) => {
      const easing = now >= T0 + 2 * MINUTE;
      report(bench.engine, sensor, now, { intensity: 300, averageVehicleSpeed: easing ? 13 : 8, occupancy: easing ? 0.55 : 0.7 });
    });
    expect(bench.incidents('congestion')).toHaveLength(1);
  });
});

describe('escalation', () => {
  it('a rising flood escalates the sensor’s one incident — warning medium, high, then flood_danger critical — and eases back only after 30 minutes', () => {
    bench = new Bench();
    const sensor = riverSensor();
    const level = (from: number, to: number, currentLevel: number) => bench.run(from, to, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel }));
    level(T0, T0 + 2 * MINUTE, 1.6);
    level(T0 + 3 * MINUTE, T0 + 5 * MINUTE, 2.1);
    level(T0 + 6 * MINUTE, T0 + 8 * MINUTE, 2.6);
    const [incident, ...others] = bench.incidents();
    expect(others).toEqual([]);
    expect(incident).toMatchObject({ type: 'flood_danger', severity: 'critical', value: 2.6 });
    expect(incident?.history.map(({ action, severity }) => [action, severity])).toEqual([
      ['open', 'medium'],
      ['escalate', 'high'],
      ['escalate', 'critical'],
    ]);

    level(T0 + 9 * MINUTE, T0 + 38 * MINUTE, 1.8);
    expect(bench.store.get(incident?.id ?? '')).toMatchObject({ type: 'flood_danger', severity: 'critical' });
    level(T0 + 39 * MINUTE, T0 + 39 * MINUTE, 1.8);
    expect(bench.store.get(incident?.id ?? '')).toMatchObject({ type: 'flood_warning', severity: 'medium', status: 'open' });
    expect(actions(incident?.id ?? '')).toEqual(['open', 'escalate', 'escalate', 'deescalate']);
  });

  it('VN_AQI above 200 escalates an air_pollution incident from high to critical', () => {
    bench = new Bench();
    const station = liveDevice('dn-air-1', 'air_quality');
    bench.run(T0, T0 + 10 * MINUTE, 5 * MINUTE, (now) => report(bench.engine, station, now, {}, { aqi: 180 }));
    report(bench.engine, station, T0 + 15 * MINUTE, {}, { aqi: 230 });
    const incidents = bench.incidents();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ severity: 'critical', value: 230 });
  });
});

describe('an operator’s resolution', () => {
  it('is not undone while the condition persists; the condition opens a new incident only after it has cleared once', () => {
    bench = new Bench();
    const sensor = riverSensor();
    bench.run(T0, T0 + 2 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.6 }));
    const [first] = bench.incidents();
    bench.store.resolve(first?.id ?? '', { actor: 'operator-lan', at: T0 + 3 * MINUTE, note: 'checked on site, nothing to do' });

    bench.run(T0 + 3 * MINUTE, T0 + 3 * 3600_000, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.6 }));
    expect(bench.incidents()).toHaveLength(1);

    const calm = T0 + 3 * 3600_000 + MINUTE;
    bench.run(calm, calm + 29 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.0 }));
    bench.run(calm + 30 * MINUTE, calm + 33 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.6 }));
    expect(bench.incidents()).toHaveLength(1);

    const clearedOnce = calm + 64 * MINUTE;
    bench.run(calm + 34 * MINUTE, clearedOnce, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.0 }));
    bench.run(clearedOnce + MINUTE, clearedOnce + 3 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.6 }));
    const incidents = bench.incidents();
    expect(incidents.map((incident) => incident.status)).toEqual(['open', 'resolved']);
    expect(incidents[0]?.openedAt).toBe(clearedOnce + 3 * MINUTE);
  });

  it('gives way when the condition grows worse than what was resolved', () => {
    bench = new Bench();
    const sensor = riverSensor();
    bench.run(T0, T0 + 2 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.6 }));
    const [first] = bench.incidents();
    bench.store.resolve(first?.id ?? '', { actor: 'operator-lan' });
    report(bench.engine, sensor, T0 + 10 * MINUTE, { currentLevel: 1.7 });
    expect(bench.incidents()).toHaveLength(1);
    report(bench.engine, sensor, T0 + 11 * MINUTE, { currentLevel: 2.7 });
    const [latest, resolved] = bench.incidents();
    expect(resolved?.id).toBe(first?.id);
    expect(latest).toMatchObject({ type: 'flood_danger', severity: 'critical', status: 'open', openedAt: T0 + 11 * MINUTE });
  });
});

describe('congestion', () => {
  it('is judged per road segment: all sensors of a segment share one incident', () => {
    bench = new Bench({ bySegment: true });
    const west = liveDevice('dn-traffic-west', 'traffic', { segment: 'cau-rong' });
    const east = liveDevice('dn-traffic-east', 'traffic', { segment: 'cau-rong' });
    bench.segmentFlow('cau-rong', { speed: 7, occupancy: 0.72 });
    bench.run(T0, T0 + 6 * MINUTE, 30 * SECOND, (now) =>
      report(bench.engine, (now - T0) % MINUTE === 0 ? west : east, now, { intensity: 400, averageVehicleSpeed: 20, occupancy: 0.3 }),
    );
    const [incident, ...others] = bench.incidents();
    expect(others).toEqual([]);
    expect(incident).toMatchObject({
      type: 'congestion',
      category: 'traffic',
      subCategory: 'trafficJam',
      severity: 'medium',
      subject: { type: 'segment', id: 'cau-rong' },
      segment: 'cau-rong',
      value: 7,
      openedAt: T0 + 5 * MINUTE,
    });

    bench.segmentFlow('cau-rong', { speed: 3, occupancy: 0.9 });
    report(bench.engine, east, T0 + 7 * MINUTE, { intensity: 100, averageVehicleSpeed: 3, occupancy: 0.9 });
    expect(bench.incidents()).toHaveLength(1);
    expect(bench.store.get(incident?.id ?? '')?.severity).toBe('high');
  });

  it('a sensor off any segment is judged on its own reading; slow but free-flowing traffic is no congestion', () => {
    bench = new Bench({ bySegment: true });
    const jammed = liveDevice('dn-traffic-1', 'traffic');
    const slow = liveDevice('dn-traffic-2', 'traffic');
    bench.run(T0, T0 + 10 * MINUTE, MINUTE, (now) => {
      report(bench.engine, jammed, now, { intensity: 300, averageVehicleSpeed: 8, occupancy: 0.65 });
      report(bench.engine, slow, now, { intensity: 300, averageVehicleSpeed: 8, occupancy: 0.3 });
    });
    expect(bench.incidents().map((incident) => incident.subject)).toEqual([{ type: 'device', id: 'dn-traffic-1' }]);
  });
});

describe('configuration', () => {
  it('applies per-zone overrides and the zone’s default flood levels for a sensor without its own', () => {
    bench = new Bench({
      config: (config) => {
        config.zones['son-tra'] = { air_pollution: { bands: [{ aboveAqi: 100, severity: 'medium' }] }, flood: { defaultAlertLevel: 0.5, defaultDangerLevel: 0.8 } };
      },
    });
    const sonTra = liveDevice('dn-air-son-tra', 'air_quality', { zone: 'son-tra' });
    const haiChau = liveDevice('dn-air-hai-chau', 'air_quality', { zone: 'hai-chau' });
    const lowPointSonTra = liveDevice('dn-wl-son-tra', 'water_level', { zone: 'son-tra' });
    const lowPointHaiChau = liveDevice('dn-wl-hai-chau', 'water_level', { zone: 'hai-chau' });
    bench.run(T0, T0 + 10 * MINUTE, MINUTE, (now) => {
      report(bench.engine, sonTra, now, {}, { aqi: 120 });
      report(bench.engine, haiChau, now, {}, { aqi: 120 });
      report(bench.engine, lowPointSonTra, now, { currentLevel: 0.35 });
      report(bench.engine, lowPointHaiChau, now, { currentLevel: 0.35 });
    });
    expect(bench.incidents().map((incident) => [incident.deviceId, incident.type, incident.severity]).sort()).toEqual([
      ['dn-air-son-tra', 'air_pollution', 'medium'],
      ['dn-wl-hai-chau', 'flood_warning', 'high'],
    ]);
  });

  it('a disabled rule opens nothing', () => {
    bench = new Bench({ config: (config) => void (config.flood.enabled = false) });
    const sensor = riverSensor();
    bench.run(T0, T0 + 10 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 3 }));
    expect(bench.incidents()).toEqual([]);
  });
});

describe('a restart', () => {
  it('picks up the open incidents: the restarted engine escalates and clears them rather than opening new ones', () => {
    bench = new Bench();
    const sensor = riverSensor();
    bench.run(T0, T0 + 5 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.6 }));
    const [incident] = bench.incidents();

    const back = T0 + 10 * MINUTE;
    bench.restart(back);
    bench.run(back, back + 10 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.6 }));
    expect(bench.incidents()).toHaveLength(1);
    report(bench.engine, sensor, back + 11 * MINUTE, { currentLevel: 2.6 });
    expect(bench.incidents().map(({ id, severity }) => [id, severity])).toEqual([[incident?.id, 'critical']]);

    bench.run(back + 12 * MINUTE, back + 42 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.0 }));
    expect(bench.incidents().map(({ id, resolution }) => [id, resolution])).toEqual([[incident?.id, 'cleared']]);
  });

  it('clears an incident whose condition ended while the api was down, 30 minutes after the first reading that shows it', () => {
    bench = new Bench();
    const sensor = riverSensor();
    bench.run(T0, T0 + 3 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.6 }));
    const [incident] = bench.incidents();

    const back = T0 + 60 * MINUTE;
    bench.restart(back);
    bench.run(back, back + 29 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.0 }));
    expect(bench.store.get(incident?.id ?? '')?.status).toBe('open');
    bench.run(back + 30 * MINUTE, back + 31 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.0 }));
    expect(bench.incidents().map(({ id, resolution, resolvedAt }) => [id, resolution, resolvedAt])).toEqual([[incident?.id, 'cleared', back + 30 * MINUTE]]);
  });

  it('keeps an operator’s resolution: the restarted engine does not reopen a condition that still persists', () => {
    bench = new Bench();
    const sensor = riverSensor();
    bench.run(T0, T0 + 2 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.6 }));
    const [incident] = bench.incidents();
    bench.store.resolve(incident?.id ?? '', { actor: 'operator-lan', at: T0 + 3 * MINUTE });

    const back = T0 + 10 * MINUTE;
    bench.restart(back);
    bench.run(back, back + 60 * MINUTE, MINUTE, (now) => report(bench.engine, sensor, now, { currentLevel: 1.6 }));
    expect(bench.incidents()).toHaveLength(1);
  });
});
