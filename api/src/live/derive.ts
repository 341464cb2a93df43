/**
 * Values an operator reads at a glance, derived from a device's latest reading: congestion for traffic,
 * flood level for water sensors, occupancy for parking. (The VN_AQI of air stations needs hours of
 * readings and comes from the AqiTracker.)
 */
import type { MetricValue } from '@city/devices';
import type { CongestionLevel, FloodLevel } from './types.js';

/**
 * Speed as a share of the segment's limit, with occupancy as a second opinion: a loop detector that is
 * occupied most of the time means queueing even when the few passing vehicles are quick.
 */
export function congestionLevel(reading: Record<string, MetricValue>, speedLimit: number): CongestionLevel | undefined {
  const speed = reading.averageVehicleSpeed;
  const occupancy = reading.occupancy;
  if (typeof speed !== 'number' || typeof occupancy !== 'number') return undefined;
  const ratio = speed / speedLimit;
  if (ratio < 0.25 || occupancy > 0.6) return 'severe';
  if (ratio < 0.45 || occupancy > 0.4 || reading.congested === true) return 'heavy';
  if (ratio < 0.7 || occupancy > 0.25) return 'moderate';
  return 'free';
}

export const CONGESTION_ORDER: readonly CongestionLevel[] = ['free', 'moderate', 'heavy', 'severe'];

export function floodLevel(level: MetricValue | undefined, thresholds: { alertLevel: number; dangerLevel: number } | undefined): FloodLevel | undefined {
  if (typeof level !== 'number' || !thresholds) return undefined;
  // Above, not at: the flood rules judge the same way, so the map and the incidents agree.
  if (level > thresholds.dangerLevel) return 'danger';
  if (level > thresholds.alertLevel) return 'alert';
  return 'normal';
}

/**
 * `capacity`: the site's totalSpotNumber attribute. A reading's own total wins; a counter that lost its
 * configuration reports 0 spots in all, and the registered size still tells how full the site is.
 */
export function parkingOccupancy(reading: Record<string, MetricValue>, capacity?: unknown): number | undefined {
  const occupied = reading.occupiedSpotNumber;
  const reported = reading.totalSpotNumber;
  const total = typeof reported === 'number' && reported > 0 ? reported : capacity;
  if (typeof occupied !== 'number' || typeof total !== 'number' || total <= 0) return undefined;
  return Math.min(1, occupied / total);
}
