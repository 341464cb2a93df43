/**
 * Rain and wind, deterministic per seed: each local day draws whether it rains, when and how hard, with
 * Da Nang's season (the heavy rains of September–December, a dry spring), and how windy it is (the
 * north-east monsoon of October–March blows harder), with the afternoon sea breeze on top. A scenario
 * can add a storm, which brings its own wind.
 */
import { smoothNoise, uniform } from './random.js';
import { localDay, localHour, localMonth } from './time.js';

const RAIN_PROBABILITY_BY_MONTH = [0, 0.35, 0.15, 0.1, 0.15, 0.3, 0.3, 0.3, 0.35, 0.6, 0.75, 0.7, 0.55];
const HOUR = 3_600_000;

export interface Storm {
  startMs: number;
  endMs: number;
  peakMmPerHour: number;
}

/** Rainfall intensity in mm/h at time t. */
export function rainfall(seed: number, t: number, storms: readonly Storm[] = []): number {
  let rain = 0;
  for (const dayOffset of [-1, 0]) {
    const day = localDay(t) + dayOffset;
    if (uniform(seed, 'rain', day) > RAIN_PROBABILITY_BY_MONTH[localMonth(day * 24 * HOUR)]!) continue;
    const start = day * 24 * HOUR - 7 * HOUR + (10 + 10 * uniform(seed, 'rain-start', day)) * HOUR;
    const duration = (1 + 4 * uniform(seed, 'rain-length', day)) * HOUR;
    const peak = 2 + 25 * uniform(seed, 'rain-peak', day) ** 2;
    rain += shower(t, start, start + duration, peak);
  }
  for (const storm of storms) rain += shower(t, storm.startMs, storm.endMs, storm.peakMmPerHour);
  return rain;
}

function shower(t: number, start: number, end: number, peak: number): number {
  if (t < start || t > end) return 0;
  return peak * Math.sin((Math.PI * (t - start)) / (end - start));
}

/** Rain over the preceding hours, decaying: how much water is still standing at a low point. */
export function recentRain(seed: number, t: number, storms: readonly Storm[] = [], hours = 4): number {
  let total = 0;
  const stepMs = 10 * 60_000;
  for (let back = 0; back < hours * 6; back++) {
    total += rainfall(seed, t - back * stepMs, storms) * (stepMs / HOUR) * Math.exp(-back / 9);
  }
  return total;
}

const MONSOON_MONTHS = new Set([10, 11, 12, 1, 2, 3]);

/** Wind speed in m/s at time t. */
export function windSpeed(seed: number, t: number, storms: readonly Storm[] = []): number {
  const day = localDay(t);
  const monsoon = MONSOON_MONTHS.has(localMonth(t)) ? 1.5 : 0;
  const daily = 0.5 + 5 * uniform(seed, 'wind', day) ** 1.5 + monsoon;
  const seaBreeze = 1.5 * Math.exp(-((localHour(t) - 14) ** 2) / 8);
  const gusts = 0.6 * smoothNoise(t, HOUR, seed, 'wind-gust');
  const storm = storms.reduce((sum, s) => sum + (12 * shower(t, s.startMs, s.endMs, s.peakMmPerHour)) / Math.max(1, s.peakMmPerHour), 0);
  return Math.max(0.2, daily + seaBreeze + gusts + storm);
}
