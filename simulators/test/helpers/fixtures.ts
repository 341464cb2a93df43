/** A small fleet for tests against a real platform: a bridge with its camera, an air station, four low points, a noise meter. */
import type { Placement, RoadSegment } from '../../src/model/city-data.js';

export const bridge: RoadSegment = {
  id: 'cau-song-han',
  name: 'Cầu Sông Hàn',
  nameEn: 'Han River Bridge',
  street: 'Cầu Sông Hàn',
  kind: 'bridge',
  lanes: 4,
  speedLimit: 50,
  capacity: 5000,
  zone: 'hai-chau',
  coordinates: [
    [108.224, 16.072],
    [108.23, 16.0718],
  ],
};
const place = (id: string, kind: Placement['kind'], extra: Partial<Placement> = {}): Placement => ({ id, kind, name: id, nameEn: id, zone: 'hai-chau', lon: 108.2208, lat: 16.0544, ...extra });
export const placements: Placement[] = [
  place('sim-cam-1', 'traffic', { segment: bridge.id, camera: true }),
  place('sim-aq-1', 'air_quality'),
  ...[1, 2, 3, 4].map((i) => place(`sim-wl-${i}`, 'water_level', { alertLevel: 0.2, dangerLevel: 0.4, baseLevel: 0, riverside: false })),
  place('sim-noise-1', 'noise', { nearSegment: bridge.id }),
];

