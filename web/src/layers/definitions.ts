/**
 * The operational layers drawn over the base map, as style data: which source each reads, how it is
 * coloured, and what its legend says. The toggles and legends in the layer panel are built from this list.
 */
import type { ExpressionSpecification, LayerSpecification } from '@maplibre/maplibre-gl-style-spec';
import type { LayerName } from '../api/types.js';
import { ICONS, type IconName } from '../incidents/icons.js';
import { FONT_BOLD, FONT_REGULAR } from '../map/fonts.js';
import { AQI_BANDS, AQI_NO_DATA, BASE_COLORS, CONGESTION_COLORS, FLOOD_COLORS, NOISE_STEPS, PARKING_STEPS, SEVERITY_COLORS, STREETLIGHT_COLORS } from './palette.js';

export interface LegendItem {
  color: string;
  /** A translation key. */
  label: string;
  /** A numeric band after the label, formatted for the language. */
  range?: { from: number; to?: number };
  shape: 'line' | 'dot' | 'ring' | 'area' | 'icon';
  /** For `icon`: the incident icon shown. */
  icon?: IconName;
}

export interface LayerGroup {
  /** The toggle's id and translation key (`layers.<id>`). */
  id: 'traffic' | 'environment' | 'noise' | 'flood' | 'parking' | 'streetlights' | 'incidents' | 'zones';
  source: LayerName;
  /** Each layer reads its group's source, or a derived one (`zone-labels`). */
  layers: LayerSpecification[];
  /** Layers that can be clicked for the side panel. */
  interactive: string[];
  legend: LegendItem[];
  visible: boolean;
}

const get = (name: string): ExpressionSpecification => ['get', name];
/** A live value: the paint of devices, segments and zones reads them from feature-state (map/feature-state.ts). */
const live = (name: string): ExpressionSpecification => ['feature-state', name];
const selected: ExpressionSpecification = ['boolean', ['feature-state', 'selected'], false];
const offline: ExpressionSpecification = ['==', live('presence'), 'offline'];
const ring = (online: string): ExpressionSpecification => ['case', selected, '#ffffff', offline, '#8a96a3', online];

/** Below this zoom no device label shows, so label changes may wait (map-controller.ts). */
export const LABEL_MINZOOM = 12;
const zoomed = (low: number, high: number): ExpressionSpecification => ['interpolate', ['linear'], ['zoom'], 11, low, 16, high];
/** A size that grows with the zoom, scaled per feature (zoom must stay the top-level input). */
const zoomedBy = (factor: ExpressionSpecification, low: number, high: number): ExpressionSpecification => ['interpolate', ['linear'], ['zoom'], 11, ['*', factor, low], 16, ['*', factor, high]];

/** The feature-state key that carries a banded reading (see `PAINTED_BANDS`). */
export const bandKey = (property: string) => `${property}Band`;

/** A reading coloured by band: the map holds the band's index (`PAINTED_BANDS`), not the reading. */
function steps(property: string, bands: readonly { from: number; color: string }[], fallback: string): ExpressionSpecification {
  return ['match', ['coalesce', live(bandKey(property)), -1], ...bands.flatMap((band, index) => [index, band.color]), fallback] as unknown as ExpressionSpecification;
}

/**
 * Readings whose layers only colour them by band, per source, with each band's lower bound. The map gets the
 * band (`bandKey`) instead of the value: a noise level or a car park's occupancy changes with every reading,
 * its band seldom, and a feature-state change costs the map a rewrite of that feature's paint in every tile.
 */
export const PAINTED_BANDS: Partial<Record<LayerName, Record<string, readonly number[]>>> = {
  environment: { LAeq: NOISE_STEPS.map((band) => band.from) },
  parking: { occupancy: PARKING_STEPS.map((band) => band.from) },
};

export const AQI_COLOR = ['match', ['coalesce', live('aqiCategory'), 0], ...AQI_BANDS.flatMap((band) => [band.category, band.color]), AQI_NO_DATA] as unknown as ExpressionSpecification;

/** Wider for more vehicles, scaled with the zoom. */
const intensityWidth = (scale: number): ExpressionSpecification => ['interpolate', ['linear'], ['coalesce', live('intensity'), 0], 0, 2 * scale, 1500, 4 * scale, 4000, 7 * scale, 8000, 10 * scale];

export function layerGroups(): LayerGroup[] {
  return [
    {
      id: 'zones',
      source: 'zones',
      visible: true,
      interactive: ['zone-fill'],
      layers: [
        { id: 'zone-fill', type: 'fill', source: 'zones', paint: { 'fill-color': '#000000', 'fill-opacity': 0 } },
        {
          id: 'zone-line',
          type: 'line',
          source: 'zones',
          paint: { 'line-color': ['case', selected, '#ffffff', BASE_COLORS.zoneLine], 'line-width': ['case', selected, 2.5, 1.2] },
        },
        {
          id: 'zone-label',
          type: 'symbol',
          source: 'zone-labels',
          layout: { 'text-field': get('name'), 'text-font': [FONT_BOLD], 'text-size': zoomed(11, 16), 'text-transform': 'uppercase', 'text-letter-spacing': 0.08, 'text-max-width': 8 },
          paint: { 'text-color': '#7f93a8', 'text-halo-color': BASE_COLORS.labelHalo, 'text-halo-width': 1.5 },
        },
      ],
      legend: [{ color: BASE_COLORS.zoneLine, label: 'legend.zoneOutline', shape: 'line' }],
    },
    {
      id: 'traffic',
      source: 'traffic',
      visible: true,
      interactive: ['traffic-line'],
      layers: [
        {
          id: 'traffic-casing',
          type: 'line',
          source: 'traffic',
          layout: { 'line-cap': 'round', 'line-join': 'round' },
          paint: { 'line-color': ['case', selected, '#ffffff', BASE_COLORS.roadCasing], 'line-width': ['interpolate', ['linear'], ['zoom'], 11, ['+', 2, intensityWidth(0.6)], 16, ['+', 3, intensityWidth(1.6)]] },
        },
        {
          id: 'traffic-line',
          type: 'line',
          source: 'traffic',
          layout: { 'line-cap': 'round', 'line-join': 'round' },
          paint: {
            'line-color': ['match', ['coalesce', live('congestion'), 'unknown'], ...Object.entries(CONGESTION_COLORS).flatMap(([level, color]) => [level, color]), CONGESTION_COLORS.unknown] as unknown as ExpressionSpecification,
            'line-width': ['interpolate', ['linear'], ['zoom'], 11, intensityWidth(0.6), 16, intensityWidth(1.6)],
          },
        },
        {
          id: 'traffic-label',
          type: 'symbol',
          source: 'traffic',
          minzoom: 13,
          layout: { 'symbol-placement': 'line', 'text-field': get('name'), 'text-font': [FONT_REGULAR], 'text-size': 12, 'text-offset': [0, 1.1] },
          paint: { 'text-color': BASE_COLORS.label, 'text-halo-color': BASE_COLORS.labelHalo, 'text-halo-width': 1.5 },
        },
      ],
      legend: [
        ...(['free', 'moderate', 'heavy', 'severe', 'unknown'] as const).map((level) => ({ color: CONGESTION_COLORS[level], label: `congestion.${level}`, shape: 'line' as const })),
        { color: '#8a96a3', label: 'legend.widthIntensity', shape: 'line' },
      ],
    },
    {
      id: 'environment',
      source: 'environment',
      visible: true,
      interactive: ['env-aqi'],
      layers: [
        {
          id: 'env-aqi',
          type: 'circle',
          source: 'environment',
          filter: ['==', get('kind'), 'air_quality'],
          paint: {
            'circle-color': AQI_COLOR,
            'circle-radius': zoomed(8, 16),
            'circle-opacity': ['case', offline, 0.45, 0.95],
            'circle-stroke-color': ring('#0b1118'),
            'circle-stroke-width': ['case', selected, 3, 1.5],
          },
        },
        {
          id: 'env-aqi-label',
          type: 'symbol',
          source: 'environment',
          filter: ['all', ['==', get('kind'), 'air_quality'], ['has', 'aqi']],
          minzoom: LABEL_MINZOOM,
          layout: { 'text-field': ['to-string', get('aqi')], 'text-font': [FONT_BOLD], 'text-size': 11, 'text-allow-overlap': true },
          paint: { 'text-color': ['case', ['>=', ['coalesce', live('aqiCategory'), 0], 4], '#ffffff', '#0b1118'] },
        },
      ],
      legend: [
        ...AQI_BANDS.map((band) => ({ color: band.color, label: `aqi.${band.key}`, shape: 'dot' as const })),
        { color: AQI_NO_DATA, label: 'legend.noData', shape: 'dot' },
      ],
    },
    {
      id: 'noise',
      source: 'environment',
      visible: false,
      interactive: ['env-noise'],
      layers: [
        {
          id: 'env-noise',
          type: 'circle',
          source: 'environment',
          filter: ['==', get('kind'), 'noise'],
          paint: {
            'circle-color': steps('LAeq', NOISE_STEPS, AQI_NO_DATA),
            'circle-radius': zoomed(5, 11),
            'circle-opacity': ['case', offline, 0.45, 0.9],
            'circle-stroke-color': ring('#0b1118'),
            'circle-stroke-width': ['case', selected, 3, 1],
          },
        },
      ],
      legend: NOISE_STEPS.map((band, index) => ({
        color: band.color,
        label: 'legend.dba',
        range: { from: band.from, to: NOISE_STEPS[index + 1]?.from },
        shape: 'dot' as const,
      })),
    },
    {
      id: 'flood',
      source: 'flood',
      visible: true,
      interactive: ['flood-point'],
      layers: [
        {
          id: 'flood-point',
          type: 'circle',
          source: 'flood',
          paint: {
            'circle-color': ['match', ['coalesce', live('flood'), 'unknown'], 'normal', FLOOD_COLORS.normal, 'alert', FLOOD_COLORS.alert, 'danger', FLOOD_COLORS.danger, FLOOD_COLORS.unknown],
            'circle-radius': zoomedBy(['match', ['coalesce', live('flood'), 'unknown'], 'danger', 1.4, 'alert', 1.2, 1], 6, 12),
            'circle-opacity': ['case', offline, 0.45, 0.95],
            'circle-stroke-color': ring('#dff3ff'),
            'circle-stroke-width': ['case', selected, 3, 1.5],
          },
        },
      ],
      legend: (['normal', 'alert', 'danger', 'unknown'] as const).map((level) => ({ color: FLOOD_COLORS[level], label: `flood.${level}`, shape: 'dot' as const })),
    },
    {
      id: 'parking',
      source: 'parking',
      visible: false,
      interactive: ['parking-point'],
      layers: [
        {
          id: 'parking-point',
          type: 'circle',
          source: 'parking',
          paint: {
            'circle-color': steps('occupancy', PARKING_STEPS, AQI_NO_DATA),
            'circle-radius': zoomed(6, 12),
            'circle-opacity': ['case', offline, 0.45, 0.95],
            'circle-stroke-color': ring('#0b1118'),
            'circle-stroke-width': ['case', selected, 3, 1.5],
          },
        },
        {
          id: 'parking-label',
          type: 'symbol',
          source: 'parking',
          // Thousands of "P"s at city scale are unreadable and cost symbol placement on every update.
          minzoom: 12,
          layout: { 'text-field': 'P', 'text-font': [FONT_BOLD], 'text-size': zoomed(8, 13), 'text-allow-overlap': true },
          paint: { 'text-color': '#0b1118' },
        },
      ],
      legend: [
        { color: PARKING_STEPS[0].color, label: 'legend.parkingFree', shape: 'dot' },
        { color: PARKING_STEPS[1].color, label: 'legend.parkingFilling', shape: 'dot' },
        { color: PARKING_STEPS[2].color, label: 'legend.parkingFull', shape: 'dot' },
      ],
    },
    {
      id: 'streetlights',
      source: 'streetlights',
      visible: false,
      interactive: ['streetlight-point'],
      layers: [
        {
          id: 'streetlight-point',
          type: 'circle',
          source: 'streetlights',
          paint: {
            'circle-color': [
              'case',
              ['!=', ['coalesce', live('fault'), ''], ''],
              STREETLIGHT_COLORS.fault,
              ['match', ['coalesce', live('powerState'), 'off'], 'on', STREETLIGHT_COLORS.on, 'low', STREETLIGHT_COLORS.low, STREETLIGHT_COLORS.off],
            ],
            'circle-radius': zoomedBy(['case', ['!=', ['coalesce', live('fault'), ''], ''], 1.6, 1], 2.5, 6),
            'circle-stroke-color': ['case', selected, '#ffffff', '#05090e'],
            'circle-stroke-width': ['case', selected, 2, 0.5],
          },
        },
      ],
      legend: [
        { color: STREETLIGHT_COLORS.on, label: 'streetlight.on', shape: 'dot' },
        { color: STREETLIGHT_COLORS.low, label: 'streetlight.low', shape: 'dot' },
        { color: STREETLIGHT_COLORS.off, label: 'streetlight.off', shape: 'dot' },
        { color: STREETLIGHT_COLORS.fault, label: 'streetlight.fault', shape: 'dot' },
      ],
    },
    {
      id: 'incidents',
      source: 'incidents',
      visible: true,
      interactive: ['incident-point'],
      layers: [
        {
          id: 'incident-point',
          type: 'circle',
          source: 'incidents',
          paint: {
            'circle-color': ['match', get('severity'), ...Object.entries(SEVERITY_COLORS).flatMap(([level, color]) => [level, color]), SEVERITY_COLORS.medium] as ExpressionSpecification,
            'circle-radius': zoomed(11, 15),
            'circle-opacity': ['case', ['==', get('status'), 'acknowledged'], 0.65, 1],
            'circle-stroke-color': ['case', selected, '#ffffff', '#05090e'],
            'circle-stroke-width': ['case', selected, 3, 2],
          },
        },
        {
          id: 'incident-icon',
          type: 'symbol',
          source: 'incidents',
          layout: { 'icon-image': ['concat', 'incident-', ['coalesce', get('icon'), 'generic']], 'icon-allow-overlap': true, 'icon-ignore-placement': true, 'icon-size': 0.85 },
        },
      ],
      legend: [
        ...(['critical', 'high', 'medium', 'low', 'informational'] as const).map((level) => ({ color: SEVERITY_COLORS[level], label: `severity.${level}`, shape: 'dot' as const })),
        ...ICONS.map((icon) => ({ color: BASE_COLORS.legendDisc, label: `legend.icon.${icon}`, shape: 'icon' as const, icon })),
      ],
    },
  ];
}

/** The ids of every clickable layer, top-most first, for hit testing. */
export function interactiveLayers(groups: LayerGroup[]): string[] {
  return groups.flatMap((group) => group.interactive).reverse();
}
