import type { FeatureCollection, Incident, StreamDevice } from '../../src/api/types.js';

export function device(overrides: Partial<StreamDevice> & Pick<StreamDevice, 'id' | 'kind'>): StreamDevice {
  return { zone: 'hai-chau', lon: 108.22, lat: 16.06, presence: 'online', readingTs: 1_700_000_000_000, reading: null, derived: {}, segment: null, ...overrides };
}

export function incident(overrides: Partial<Incident> & Pick<Incident, 'id'>): Incident {
  return { type: 'accident', category: 'traffic', severity: 'medium', status: 'open', lon: 108.22, lat: 16.06, zone: 'hai-chau', description: 'Va chạm', openedAt: 1_700_000_000_000, ...overrides };
}

export const LAYERS: Record<'traffic' | 'zones' | 'environment', FeatureCollection> = {
  traffic: {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', id: 'cau-rong', geometry: { type: 'LineString', coordinates: [[108.22, 16.06], [108.23, 16.06]] }, properties: { id: 'cau-rong', name: 'Cầu Rồng', nameEn: 'Dragon Bridge', speedLimit: 50, congestion: 'unknown' } },
    ],
  },
  zones: {
    type: 'FeatureCollection',
    features: [{ type: 'Feature', id: 'hai-chau', geometry: { type: 'Polygon', coordinates: [[[108.2, 16.0], [108.3, 16.0], [108.3, 16.1], [108.2, 16.0]]] }, properties: { id: 'hai-chau', name: 'Quận Hải Châu' } }],
  },
  environment: {
    type: 'FeatureCollection',
    features: [{ type: 'Feature', id: 'air-1', geometry: { type: 'Point', coordinates: [108.22, 16.06] }, properties: { id: 'air-1', kind: 'air_quality', name: 'Trạm Hải Châu', presence: 'online', pm25: 30 } }],
  },
};
