/**
 * The colours every layer and legend share. AQI colours are the official ones of Decision 1459/QĐ-TCMT,
 * taken from the api's own VN_AQI module so that map and api can never disagree.
 */
import { aqiCategory } from '../../../api/src/live/vn-aqi.js';

/** One representative AQI inside each band of Bảng 1, in category order 1–6. */
const BAND_SAMPLES = [25, 75, 125, 175, 250, 400];
export const AQI_BANDS = BAND_SAMPLES.map((aqi) => aqiCategory(aqi));
export const AQI_NO_DATA = '#5c6673';

export const CONGESTION_COLORS = { free: '#2ecc71', moderate: '#f1c40f', heavy: '#ff8c1a', severe: '#ff2d55', unknown: '#5c6673' } as const;
export const SEVERITY_COLORS = { informational: '#8a96a3', low: '#3fa7d6', medium: '#f4d03f', high: '#ff8c1a', critical: '#ff2d55' } as const;
export const FLOOD_COLORS = { normal: '#3fa7d6', alert: '#ff9f1a', danger: '#ff2d55', unknown: '#5c6673' } as const;
export const STREETLIGHT_COLORS = { on: '#ffd166', low: '#a88a3d', off: '#3b4350', fault: '#ff2d55' } as const;

/** Parking occupancy bands: room, filling up, full. */
export const PARKING_STEPS = [
  { from: 0, color: '#2ecc71' },
  { from: 0.7, color: '#f1c40f' },
  { from: 0.9, color: '#ff2d55' },
] as const;

/** Noise bands, dB(A) LAeq: 70 is QCVN 26:2010's daytime limit for ordinary areas. */
export const NOISE_STEPS = [
  { from: 0, color: '#6bd4c5' },
  { from: 55, color: '#c9e265' },
  { from: 70, color: '#ffb347' },
  { from: 80, color: '#ff5e5e' },
] as const;

export const BASE_COLORS = {
  sea: '#08121c',
  land: '#121a24',
  landOutside: '#0d141c',
  zoneLine: '#3b4d61',
  river: '#0c2234',
  coast: '#2b5878',
  road: '#2a3542',
  roadCasing: '#0a0f15',
  label: '#c7d2de',
  labelHalo: '#05090e',
  legendDisc: '#5c6673',
} as const;
