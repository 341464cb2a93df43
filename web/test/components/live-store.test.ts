import { describe, expect, it } from 'vitest';
import { LiveStore } from '../../src/live/live-store.js';
import { zoneSummaries } from '../../src/live/device-tally.js';
import { citySummary, stableSummary } from '../../src/summary/summary.js';
import { device, incident, LAYERS } from './fixtures.js';

function loaded(now = () => 1_700_000_000_000): LiveStore {
  const store = new LiveStore(now);
  store.load(LAYERS);
  return store;
}

const snapshot = (overrides: Record<string, unknown> = {}) => ({ type: 'snapshot' as const, ts: 1, devices: [], segments: {}, incidents: [], ...overrides });
const delta = (overrides: Record<string, unknown> = {}) => ({ type: 'delta' as const, ts: 2, devices: [], removed: [], segments: {}, incidents: [], ...overrides });

describe('LiveStore', () => {
  it('turns a reading into an update that keeps the registry name and drops metrics no longer reported', () => {
    const store = loaded();
    const diffs = store.apply(snapshot({ devices: [device({ id: 'air-1', kind: 'air_quality', reading: { pm10: 40 }, derived: { aqi: 40, aqiCategory: 1 } })] }));
    const update = diffs.environment?.update?.[0];
    expect(update?.id).toBe('air-1');
    expect(update?.removeProperties).toEqual(['pm25']);
    const properties = Object.fromEntries(update!.addOrUpdateProperties!.map(({ key, value }) => [key, value]));
    expect(properties).toMatchObject({ name: 'Trạm Hải Châu', pm10: 40, aqiCategory: 1, presence: 'online' });
    // No wholesale reload: nothing is added or removed for a known device.
    expect(diffs.environment?.add).toBeUndefined();
  });

  it('adds a device it did not know and removes one the snapshot no longer has', () => {
    const store = loaded();
    const diffs = store.apply(snapshot({ devices: [device({ id: 'flood-1', kind: 'water_level', reading: { currentLevel: 0.8 }, derived: { flood: 'alert' } })] }));
    expect(diffs.flood?.add?.map((feature) => feature.id)).toEqual(['flood-1']);
    expect(diffs.environment?.remove).toEqual(['air-1']);
  });

  it('applies segment states to the traffic layer with their congestion', () => {
    const store = loaded();
    store.apply(snapshot({ segments: { 'cau-rong': { id: 'cau-rong', sensors: 2, reporting: 2, averageVehicleSpeed: 8.04, intensity: 2400, occupancy: 0.71234, congestion: 'severe' } } }));
    expect(store.feature('traffic', 'cau-rong')?.properties).toMatchObject({ name: 'Cầu Rồng', congestion: 'severe', averageVehicleSpeed: 8, occupancy: 0.712 });
    expect(citySummary(store).congested.map((segment) => segment.id)).toEqual(['cau-rong']);
  });

  it('marks incidents arriving after the snapshot as fresh and drops resolved ones', () => {
    const store = loaded();
    store.apply(snapshot({ incidents: [incident({ id: 'old' })] }));
    expect(store.fresh.size).toBe(0);
    const diffs = store.apply(delta({ incidents: [incident({ id: 'new', severity: 'critical' })] }));
    expect(diffs.incidents?.add?.[0]?.properties).toMatchObject({ icon: 'accident', severity: 'critical' });
    expect([...store.fresh.keys()]).toEqual(['new']);
    const resolved = store.apply(delta({ incidents: [incident({ id: 'new', status: 'resolved' })] }));
    expect(resolved.incidents?.remove).toEqual(['new']);
    expect(store.incidents.has('new')).toBe(false);
    expect(store.fresh.size).toBe(0);
  });

  it('keeps the zones summary current from devices and incidents', () => {
    const store = loaded();
    store.apply(
      snapshot({
        devices: [device({ id: 'air-1', kind: 'air_quality', reading: { pm25: 60 }, derived: { aqi: 120, aqiCategory: 3 } }), device({ id: 'n-1', kind: 'noise', presence: 'offline', reading: { LAeq: 70 } })],
        incidents: [incident({ id: 'a' })],
      }),
    );
    expect(store.feature('zones', 'hai-chau')?.properties).toMatchObject({ devices: 2, online: 1, offline: 1, aqiMax: 120, pm25Mean: 60, noiseMean: 70, openIncidents: 1 });
    const summary = citySummary(store);
    expect(summary).toMatchObject({ online: 1, offline: 1, worstAqiZone: { id: 'hai-chau', aqi: 120, category: 3 } });
    expect(summary.incidents.medium).toBe(1);
  });
});

describe('LiveStore at scale', () => {
  it('recomputes the zone summaries at most once a second and leaves the rest to flushZones', () => {
    let now = 1_700_000_000_000;
    const store = loaded(() => now);
    store.apply(snapshot({ devices: [device({ id: 'air-1', kind: 'air_quality', reading: { pm25: 60 }, derived: { aqi: 120, aqiCategory: 3 } })] }));
    expect(store.feature('zones', 'hai-chau')?.properties.aqiMax).toBe(120);
    now += 200;
    const diffs = store.apply(delta({ devices: [device({ id: 'air-1', kind: 'air_quality', reading: { pm25: 90 }, derived: { aqi: 170, aqiCategory: 4 } })] }));
    expect(diffs.zones).toBeUndefined();
    expect(store.feature('zones', 'hai-chau')?.properties.aqiMax).toBe(120);
    const flushed = store.flushZones();
    expect(flushed.zones?.update?.map((update) => update.id)).toEqual(['hai-chau']);
    expect(store.feature('zones', 'hai-chau')?.properties.aqiMax).toBe(170);
    expect(store.flushZones()).toEqual({});
  });

  it('bumps the incidents version for incidents only, not for device readings', () => {
    const store = loaded();
    store.apply(snapshot({ incidents: [incident({ id: 'a' })] }));
    const before = store.incidentsVersion;
    store.apply(delta({ devices: [device({ id: 'air-1', kind: 'air_quality', reading: { pm25: 12 } })] }));
    expect(store.incidentsVersion).toBe(before);
    store.apply(delta({ incidents: [incident({ id: 'b', severity: 'high' })] }));
    expect(store.incidentsVersion).toBeGreaterThan(before);
    expect(store.freshIncidents()).toEqual([{ id: 'b', lon: 108.22, lat: 16.06, severity: 'high' }]);
  });
});

describe('LiveStore tally', () => {
  const ZONES = ['hai-chau', 'son-tra'];
  const KINDS = ['air_quality', 'noise', 'parking'] as const;
  const PRESENCES = ['online', 'offline', 'unknown'] as const;

  /** A device in a random zone, presence and reading, from a seeded sequence so that failures repeat. */
  function randomDevice(next: () => number, id: number) {
    const pick = <T>(values: readonly T[]) => values[Math.floor(next() * values.length)]!;
    const kind = pick(KINDS);
    const reading: Record<string, number> | null = kind === 'air_quality' ? { pm25: Math.round(next() * 2000) / 10 } : kind === 'noise' ? { LAeq: 40 + next() * 50 } : next() < 0.3 ? null : { occupied: 1 };
    const derived = kind === 'air_quality' && next() < 0.8 ? { aqi: Math.round(next() * 300), aqiCategory: 2 } : {};
    return device({ id: `d-${id}`, kind, zone: pick(ZONES), presence: pick(PRESENCES), reading, derived });
  }

  it('keeps zone summaries and presence counts equal to a walk of every device through zone, presence and reading changes and removals', () => {
    let seed = 11;
    const next = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    let now = 1_700_000_000_000;
    const store = new LiveStore(() => now);
    const zones = LAYERS.zones.features;
    store.load({ ...LAYERS, zones: { type: 'FeatureCollection', features: [...zones, { ...zones[0]!, id: 'son-tra', properties: { id: 'son-tra', name: 'Quận Sơn Trà' } }] } });
    const expectWalk = () => {
      store.flushZones();
      const walk = zoneSummaries(store.devices.values(), store.incidents.values());
      for (const zone of ZONES) {
        const expected = walk.get(zone) ?? { devices: 0, online: 0, offline: 0, aqiMax: null, pm25Mean: null, noiseMean: null, openIncidents: 0 };
        expect(store.feature('zones', zone)?.properties).toMatchObject(expected);
      }
      const presence = { online: 0, offline: 0, unknown: 0 };
      for (const { presence: state } of store.devices.values()) presence[state === 'online' || state === 'offline' ? state : 'unknown'] += 1;
      expect(store.presence).toEqual(presence);
      expect(citySummary(store)).toMatchObject(presence);
    };
    store.apply(snapshot({ devices: Array.from({ length: 200 }, (_, id) => randomDevice(next, id)), incidents: [incident({ id: 'a' }), incident({ id: 'b', zone: 'son-tra' })] }));
    expectWalk();
    for (let round = 0; round < 50; round += 1) {
      now += 1000;
      const changed = Array.from({ length: 20 }, () => randomDevice(next, Math.floor(next() * 220)));
      const removed = Array.from({ length: 3 }, () => `d-${Math.floor(next() * 220)}`).filter((id) => !changed.some((device) => device.id === id));
      store.apply(delta({ devices: changed, removed, incidents: round % 10 === 0 ? [incident({ id: 'b', zone: 'son-tra', status: round % 20 === 0 ? 'resolved' : 'open' })] : [] }));
      expectWalk();
    }
    // A new snapshot replaces everything: devices it does not list leave the counts.
    store.apply(snapshot({ devices: Array.from({ length: 30 }, (_, id) => randomDevice(next, id)) }));
    expectWalk();
  });
});

describe('stableSummary', () => {
  it('keeps the previous summary, or its unchanged parts, so that the strip re-renders only for changed figures', () => {
    const store = loaded();
    store.apply(snapshot({ devices: [device({ id: 'air-1', kind: 'air_quality', reading: { pm25: 60 }, derived: { aqi: 120, aqiCategory: 3 } })], incidents: [incident({ id: 'a' })] }));
    store.flushZones();
    const first = citySummary(store);
    expect(stableSummary(first, citySummary(store))).toBe(first);
    store.apply(delta({ devices: [device({ id: 'air-1', kind: 'air_quality', presence: 'offline', reading: { pm25: 60 }, derived: { aqi: 120, aqiCategory: 3 } })] }));
    const second = stableSummary(first, citySummary(store));
    expect(second).not.toBe(first);
    expect(second).toMatchObject({ online: 0, offline: 1 });
    expect(second.incidents).toBe(first.incidents);
    expect(second.worstAqiZone).toBe(first.worstAqiZone);
    expect(second.congested).toBe(first.congested);
  });
});
