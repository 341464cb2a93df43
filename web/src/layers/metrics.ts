/**
 * What the console knows of each metric: its unit (a translation key), how to show it, and which metric
 * a device kind charts by default. Names follow the device contract (devices/src/kinds.ts).
 */
import type { DeviceKind } from '../api/types.js';
import { formatNumber, formatPercent } from '../i18n/format.js';

export interface MetricInfo {
  unit?: string;
  digits: number;
  /** A 0–1 ratio shown as a percentage. */
  ratio?: boolean;
}

export const METRICS: Record<string, MetricInfo> = {
  intensity: { unit: 'units.vehiclesPerHour', digits: 0 },
  averageVehicleSpeed: { unit: 'units.kmh', digits: 1 },
  occupancy: { digits: 0, ratio: true },
  pm25: { unit: 'units.ugm3', digits: 1 },
  pm10: { unit: 'units.ugm3', digits: 1 },
  no2: { unit: 'units.ugm3', digits: 1 },
  o3: { unit: 'units.ugm3', digits: 1 },
  so2: { unit: 'units.ugm3', digits: 1 },
  co: { unit: 'units.ugm3', digits: 0 },
  temperature: { unit: 'units.celsius', digits: 1 },
  relativeHumidity: { digits: 0, ratio: true },
  LAeq: { unit: 'units.dba', digits: 1 },
  LAmax: { unit: 'units.dba', digits: 1 },
  currentLevel: { unit: 'units.metres', digits: 2 },
  rainfall: { unit: 'units.mmPerHour', digits: 1 },
  alertLevel: { unit: 'units.metres', digits: 2 },
  dangerLevel: { unit: 'units.metres', digits: 2 },
  occupiedSpotNumber: { unit: 'units.spots', digits: 0 },
  totalSpotNumber: { unit: 'units.spots', digits: 0 },
  illuminanceLevel: { digits: 0, ratio: true },
  powerConsumption: { unit: 'units.watts', digits: 0 },
  aqi: { digits: 0 },
  speedLimit: { unit: 'units.kmh', digits: 0 },
  capacity: { unit: 'units.vehiclesPerHour', digits: 0 },
  pm25Mean: { unit: 'units.ugm3', digits: 1 },
  noiseMean: { unit: 'units.dba', digits: 1 },
  aqiMax: { digits: 0 },
};

/** The metrics a device kind shows in its panel, in order; the first is charted. */
export const KIND_METRICS: Record<DeviceKind, string[]> = {
  traffic: ['averageVehicleSpeed', 'intensity', 'occupancy'],
  air_quality: ['pm25', 'pm10', 'no2', 'o3', 'so2', 'co', 'temperature', 'relativeHumidity'],
  noise: ['LAeq', 'LAmax'],
  water_level: ['currentLevel', 'rainfall', 'alertLevel', 'dangerLevel'],
  parking: ['occupiedSpotNumber', 'totalSpotNumber'],
  streetlight: ['powerConsumption', 'illuminanceLevel'],
};

export function formatMetric(language: string, t: (key: string) => string, metric: string, value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return typeof value === 'string' ? value : '—';
  const info = METRICS[metric] ?? { digits: 2 };
  if (info.ratio) return formatPercent(language, value);
  const number = formatNumber(language, value, info.digits);
  return info.unit ? `${number} ${t(info.unit)}` : number;
}
