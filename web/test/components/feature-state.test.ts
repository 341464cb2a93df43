import { describe, expect, it } from 'vitest';
import type { FeatureCollection } from '../../src/api/types.js';
import { layerGroups, PAINTED_BANDS } from '../../src/layers/definitions.js';
import { paintedKeys, splitCollection, splitDiff, TILED_KEYS, TiledSource } from '../../src/map/feature-state.js';

const painted = paintedKeys(layerGroups().flatMap((group) => group.layers.map((layer) => layer.paint)));
const point = { type: 'Point', coordinates: [108.22, 16.06] };
const environment = (properties: Record<string, unknown>): FeatureCollection => ({
  type: 'FeatureCollection',
  features: [{ type: 'Feature', id: 'air-1', geometry: point, properties: { id: 'air-1', kind: 'air_quality', ...properties } }],
});

describe('live values through feature-state', () => {
  it('keeps only what filters and layouts read in the tiles, and cuts them again only when that changes', () => {
    const source = new TiledSource(TILED_KEYS.environment!, painted);
    const first = splitCollection(environment({ aqi: 80, aqiCategory: 2, presence: 'online' }), source);
    expect(first.data?.features[0]?.properties).toEqual({ id: 'air-1', kind: 'air_quality', aqi: 80 });
    expect(first.states.get('air-1')).toMatchObject({ aqiCategory: 2, presence: 'online' });

    // The same geometry and tiled keys: no new tiles; a value gone from the data is cleared from the state.
    const second = splitCollection(environment({ aqi: 80, aqiCategory: 3 }), source);
    expect(second.data).toBeUndefined();
    expect(second.states.get('air-1')).toEqual({ aqiCategory: 3, presence: null });
  });

  it('keeps a zone colouring off the map until it is shown, then sets the current value of every zone', () => {
    const zones = new TiledSource(TILED_KEYS.zones!, painted, new Set(['pm25Mean', 'noiseMean']));
    const zone = (properties: Record<string, unknown>): FeatureCollection => ({
      type: 'FeatureCollection',
      features: [{ type: 'Feature', id: 'z-1', geometry: point, properties: { id: 'z-1', name: 'Hải Châu', ...properties } }],
    });
    expect(splitCollection(zone({ pm25Mean: 20, noiseMean: 60 }), zones).states.size).toBe(0);
    expect(splitDiff({ update: [{ id: 'z-1', addOrUpdateProperties: [{ key: 'pm25Mean', value: 24 }] }] }, zones).states.size).toBe(0);

    expect(zones.show(['pm25Mean']).get('z-1')).toEqual({ pm25Mean: 24 });
    expect(splitDiff({ update: [{ id: 'z-1', addOrUpdateProperties: [{ key: 'pm25Mean', value: 30 }, { key: 'noiseMean', value: 62 }] }] }, zones).states.get('z-1')).toEqual({ pm25Mean: 30 });
    expect(zones.show([]).size).toBe(0);
  });

  it('turns a reading into feature-state, a label change into a held tile update, and a move into a tile update', () => {
    const source = new TiledSource(TILED_KEYS.environment!, painted);
    splitCollection(environment({ aqi: 80, aqiCategory: 2, pm25: 20 }), source);
    const reading = splitDiff({ update: [{ id: 'air-1', addOrUpdateProperties: [{ key: 'pm25', value: 31 }, { key: 'aqiCategory', value: 2 }] }] }, source);
    expect(reading.tiles).toBeUndefined();
    expect(reading.labels.size).toBe(0);
    // Only what is drawn and changed: a new PM2.5 within the same AQI band costs the map nothing.
    expect(reading.states.size).toBe(0);
    const band = splitDiff({ update: [{ id: 'air-1', addOrUpdateProperties: [{ key: 'pm25', value: 60 }, { key: 'aqiCategory', value: 3 }] }] }, source);
    expect(band.states.get('air-1')).toEqual({ aqiCategory: 3 });

    const label = splitDiff({ update: [{ id: 'air-1', addOrUpdateProperties: [{ key: 'aqi', value: 120 }] }] }, source);
    expect(label.tiles).toBeUndefined();
    expect(label.labels.get('air-1')).toEqual({ id: 'air-1', kind: 'air_quality', aqi: 120 });
    expect(source.update('air-1', { id: 'air-1', kind: 'air_quality' })).toMatchObject({ removeProperties: ['aqi'] });

    const moved = { type: 'Point' as const, coordinates: [108.23, 16.07] };
    const move = splitDiff({ update: [{ id: 'air-1', newGeometry: moved, addOrUpdateProperties: [] }] }, source);
    expect(move.tiles?.update?.[0]).toMatchObject({ id: 'air-1', newGeometry: moved });

    const removal = splitDiff({ remove: ['air-1'] }, source);
    expect(removal.removed).toEqual(['air-1']);
    expect(removal.tiles?.remove).toEqual(['air-1']);
  });

  it('gives the map the band of a reading coloured by band, so a level within its band changes nothing', () => {
    const source = new TiledSource(TILED_KEYS.environment!, painted, undefined, PAINTED_BANDS.environment);
    const noise = (LAeq: unknown): FeatureCollection => ({
      type: 'FeatureCollection',
      features: [{ type: 'Feature', id: 'noise-1', geometry: point, properties: { id: 'noise-1', kind: 'noise', LAeq } }],
    });
    expect(splitCollection(noise(58), source).states.get('noise-1')).toEqual({ LAeqBand: 1 });
    const level = (value: unknown) => splitDiff({ update: [{ id: 'noise-1', addOrUpdateProperties: [{ key: 'LAeq', value }] }] }, source).states.get('noise-1');
    expect(level(66)).toBeUndefined();
    expect(level(70)).toEqual({ LAeqBand: 2 });
    expect(level(95)).toEqual({ LAeqBand: 3 });
    expect(level(-3)).toEqual({ LAeqBand: 0 });
    expect(level(null)).toEqual({ LAeqBand: null });
  });
});
