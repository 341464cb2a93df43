/**
 * The console's own base map, as data: a dark control-room style drawn from what ships with the platform
 * — zones (from the api, so a city's own ZONES_FILE shows), the Hàn river and coast (bundled), the road
 * network (the api's traffic layer) — with labels in the bundled font. Nothing comes from the internet.
 * The credits are translated, so the map controller shows them (`map.attribution*`), not the sources.
 */
import type { StyleSpecification } from '@maplibre/maplibre-gl-style-spec';
import water from '../../../simulators/data/water.geojson?raw';
import { BASE_COLORS } from '../layers/palette.js';
import { fontFaces, FONT_REGULAR } from './fonts.js';

const EMPTY: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };

export function baseStyle(): StyleSpecification {
  return {
    version: 8,
    name: 'city-ioc-dark',
    'font-faces': fontFaces(),
    sources: {
      zones: { type: 'geojson', data: EMPTY, promoteId: 'id' },
      water: { type: 'geojson', data: JSON.parse(water) as GeoJSON.FeatureCollection },
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': BASE_COLORS.sea } },
      { id: 'land', type: 'fill', source: 'zones', paint: { 'fill-color': BASE_COLORS.land } },
      { id: 'river', type: 'fill', source: 'water', filter: ['==', ['get', 'kind'], 'river'], paint: { 'fill-color': BASE_COLORS.river, 'fill-outline-color': BASE_COLORS.coast } },
      { id: 'coast', type: 'line', source: 'water', filter: ['==', ['get', 'kind'], 'coast'], paint: { 'line-color': BASE_COLORS.coast, 'line-width': 1.5, 'line-dasharray': [3, 2] } },
      {
        id: 'water-label',
        type: 'symbol',
        source: 'water',
        layout: { 'text-field': ['get', 'name'], 'text-font': [FONT_REGULAR], 'text-size': 12, 'symbol-placement': 'point', 'text-letter-spacing': 0.1 },
        paint: { 'text-color': '#5f8fb3', 'text-halo-color': BASE_COLORS.labelHalo, 'text-halo-width': 1 },
      },
    ],
  };
}
