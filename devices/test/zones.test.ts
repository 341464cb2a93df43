import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { DEFAULT_ZONES_FILE, loadZones, parseZones, zoneSlug, ZonesError } from '../src/zones.js';

const square = (west: number, south: number, size: number) => ({
  type: 'Polygon',
  coordinates: [
    [
      [west, south],
      [west + size, south],
      [west + size, south + size],
      [west, south + size],
      [west, south],
    ],
  ],
});

const feature = (properties: Record<string, unknown>, geometry: unknown = square(0, 0, 1)) => ({ type: 'Feature', properties, geometry });
const collection = (...features: unknown[]) => ({ type: 'FeatureCollection', features });

describe('the bundled Da Nang districts', () => {
  const zones = loadZones();

  it('are the default, shipped inside the package', () => {
    expect(DEFAULT_ZONES_FILE).toBe(fileURLToPath(new URL('../data/geo/danang-districts.geojson', import.meta.url)));
    expect(zones.zones.map((zone) => zone.id)).toEqual([
      'lien-chieu',
      'thanh-khe',
      'hai-chau',
      'son-tra',
      'ngu-hanh-son',
      'cam-le',
      'hoa-vang',
      'hoang-sa',
    ]);
  });

  it('keep the original names and the Hoàng Sa islands', () => {
    expect(zones.get('hai-chau')?.name).toBe('Quận Hải Châu');
    const hoangSa = zones.get('hoang-sa');
    expect(hoangSa?.name).toBe('Huyện Hoàng Sa');
    expect(hoangSa?.bbox[2]).toBeGreaterThan(112);
  });

  it('find the district a point stands in', () => {
    expect(zones.zoneAt(108.2208, 16.0544)?.id).toBe('hai-chau');
    expect(zones.zoneAt(108.27, 16.11)?.id).toBe('son-tra');
    expect(zones.zoneAt(108.25, 15.99)?.id).toBe('ngu-hanh-son');
  });

  it('find nothing outside the city, for swapped coordinates or non-numbers', () => {
    expect(zones.zoneAt(105.85, 21.03)).toBeUndefined();
    expect(zones.zoneAt(16.0544, 108.2208)).toBeUndefined();
    expect(zones.zoneAt(Number.NaN, 16.05)).toBeUndefined();
    // The sea east of Sơn Trà, inside the city's bounding box.
    expect(zones.zoneAt(108.5, 16.1)).toBeUndefined();
  });

  it('answer lookups quickly enough for bulk provisioning', () => {
    const started = performance.now();
    for (let i = 0; i < 2000; i++) zones.zoneAt(108.1 + (i % 40) * 0.005, 16.0 + Math.floor(i / 40) * 0.004);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('load Ho Chi Minh City too, with distinct ids', () => {
    const hcmc = loadZones(fileURLToPath(new URL('../data/geo/hcmc-districts.geojson', import.meta.url)));
    const ids = hcmc.zones.map((zone) => zone.id);
    expect(ids).toHaveLength(22);
    expect(new Set(ids).size).toBe(22);
    expect(ids).toContain('quan-1');
    expect(ids).toContain('thu-duc');
    expect(ids).toContain('go-vap');
  });
});

describe('zoneSlug', () => {
  it('drops the administrative prefix and the diacritics', () => {
    expect(zoneSlug('Quận Hải Châu')).toBe('hai-chau');
    expect(zoneSlug('Huyện Hòa Vang')).toBe('hoa-vang');
    expect(zoneSlug('Thành phố Thủ Đức')).toBe('thu-duc');
    expect(zoneSlug('Thị xã Điện Bàn')).toBe('dien-ban');
    expect(zoneSlug('Phường Thạch Thang')).toBe('thach-thang');
    expect(zoneSlug('Xã Hòa Bắc')).toBe('hoa-bac');
    expect(zoneSlug('  Ngũ Hành Sơn ')).toBe('ngu-hanh-son');
  });

  it('keeps the prefix of a numbered district', () => {
    expect(zoneSlug('Quận 1')).toBe('quan-1');
    expect(zoneSlug('Phường 12')).toBe('phuong-12');
  });

  it('handles decomposed Unicode input', () => {
    expect(zoneSlug('Quận Hải Châu'.normalize('NFD'))).toBe('hai-chau');
  });
});

describe('parseZones', () => {
  it('uses an id property when a feature has one', () => {
    const index = parseZones(collection(feature({ id: 'ward-7', name: 'Phường Bảy' }), feature({ name: 'Xã Tám' }, square(2, 0, 1))), 'test');
    expect(index.zones.map((zone) => zone.id)).toEqual(['ward-7', 'tam']);
    expect(index.zoneAt(0.5, 0.5)?.name).toBe('Phường Bảy');
    expect(index.zoneAt(2.5, 0.5)?.id).toBe('tam');
    expect(index.zoneAt(1.5, 0.5)).toBeUndefined();
  });

  it('respects holes in polygons', () => {
    const ring = (west: number, size: number) => [
      [west, west],
      [west + size, west],
      [west + size, west + size],
      [west, west + size],
      [west, west],
    ];
    const index = parseZones(collection(feature({ name: 'Donut' }, { type: 'Polygon', coordinates: [ring(0, 10), ring(4, 2)] })), 'test');
    expect(index.zoneAt(1, 1)?.id).toBe('donut');
    expect(index.zoneAt(5, 5)).toBeUndefined();
  });

  it('refuses what is not a FeatureCollection of named (Multi)Polygons', () => {
    expect(() => parseZones({ type: 'Feature' }, 'x')).toThrow(/not a GeoJSON FeatureCollection/);
    expect(() => parseZones([], 'x')).toThrow(ZonesError);
    expect(() => parseZones(collection(), 'x')).toThrow(/no zones/);
    expect(() => parseZones(collection(feature({})), 'x')).toThrow(/feature 0 has no "name"/);
    expect(() => parseZones(collection({ type: 'Feature', geometry: square(0, 0, 1) }), 'x')).toThrow(/no properties/);
    expect(() => parseZones(collection(feature({ name: 'P' }, { type: 'Point', coordinates: [0, 0] })), 'x')).toThrow(
      /not a Polygon or MultiPolygon/,
    );
    expect(() => parseZones(collection(feature({ name: 'P' }, { type: 'Polygon', coordinates: [[[0, 0], [1, 1]]] })), 'x')).toThrow(
      /fewer than 4 positions/,
    );
    expect(() =>
      parseZones(collection(feature({ name: 'P' }, { type: 'Polygon', coordinates: [[[0, 0], ['a', 1], [1, 1], [0, 0]]] })), 'x'),
    ).toThrow(/not \[lon, lat\]/);
  });

  it('refuses duplicate and unusable ids', () => {
    expect(() => parseZones(collection(feature({ name: 'Quận Một' }), feature({ name: 'Huyện Một' })), 'x')).toThrow(/two zones have the id "mot"/);
    expect(() => parseZones(collection(feature({ name: 'A', id: 'has space' })), 'x')).toThrow(/zone id "has space"/);
    expect(() => parseZones(collection(feature({ name: '---' })), 'x')).toThrow(/zone id ""/);
  });
});

describe('loadZones', () => {
  it('reads a city-supplied file and explains what is wrong with a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'city-zones-'));
    try {
      const good = join(dir, 'zones.geojson');
      writeFileSync(good, JSON.stringify(collection(feature({ name: 'Phường Một' }))));
      expect(loadZones(good).zones.map((zone) => zone.id)).toEqual(['mot']);

      const notJson = join(dir, 'broken.geojson');
      writeFileSync(notJson, '{"type":');
      expect(() => loadZones(notJson)).toThrow(/is not JSON/);
      expect(() => loadZones(join(dir, 'missing.geojson'))).toThrow(/missing\.geojson: does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
