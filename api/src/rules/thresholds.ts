import type { DeviceAttributes } from '@city/devices';
/**
 * The threshold rules as pure functions: given a value, the zone's rule and whether the condition already
 * holds (hysteresis: it is harder to end than to start), is the condition present, and how severe is it?
 */
import { severityRank, type Severity } from '../incidents/model.js';
import type { AirPollutionRule, CongestionRule, FloodRule } from './rules-config.js';

export interface Finding {
  active: true;
  type: string;
  severity: Severity;
  value?: number | undefined;
  description: string;
  /** Who raised it: the rule engine (`system`) unless a device reported it. */
  actor?: string | undefined;
}

export type Verdict = Finding | { active: false };

export const ABSENT: Verdict = { active: false };

export function airPollution(aqi: number, rule: AirPollutionRule, holding: boolean, where: string): Verdict {
  const threshold = rule.bands[0]?.aboveAqi ?? Infinity;
  const present = holding ? aqi > threshold - rule.hysteresisAqi : aqi > threshold;
  if (!present) return ABSENT;
  const severity = highestBand(rule.bands.filter((band) => aqi > band.aboveAqi)) ?? lowestBand(rule.bands);
  return { active: true, type: 'air_pollution', severity, value: aqi, description: `VN_AQI ${Math.round(aqi)} at ${where} (above ${threshold})` };
}

export function congestion(flow: { speed: number; occupancy: number }, rule: CongestionRule, holding: boolean, where: string): Verdict {
  const threshold = rule.bands[0]?.belowSpeedKmh ?? 0;
  const present = holding
    ? flow.speed < threshold + rule.hysteresisSpeedKmh && flow.occupancy > rule.aboveOccupancy - rule.hysteresisOccupancy
    : flow.speed < threshold && flow.occupancy > rule.aboveOccupancy;
  if (!present) return ABSENT;
  const severity = highestBand(rule.bands.filter((band) => flow.speed < band.belowSpeedKmh)) ?? lowestBand(rule.bands);
  return {
    active: true,
    type: 'congestion',
    severity,
    value: round(flow.speed, 1),
    description: `Congestion on ${where}: ${round(flow.speed, 1)} km/h, occupancy ${Math.round(flow.occupancy * 100)}%`,
  };
}

export interface FloodLevels {
  alertLevel: number;
  dangerLevel: number;
}

/** A water sensor's own alertLevel/dangerLevel attributes when usable (danger above alert), else its zone's defaults. */
export function sensorFloodLevels(attributes: DeviceAttributes, rule: FloodRule): FloodLevels | undefined {
  const { alertLevel, dangerLevel } = attributes;
  if (typeof alertLevel === 'number' && typeof dangerLevel === 'number' && dangerLevel > alertLevel) return { alertLevel, dangerLevel };
  const { defaultAlertLevel, defaultDangerLevel } = rule;
  return defaultAlertLevel !== undefined && defaultDangerLevel !== undefined ? { alertLevel: defaultAlertLevel, dangerLevel: defaultDangerLevel } : undefined;
}

/** One condition per sensor: a warning above the alert level that becomes a danger above the danger level. */
export function flood(level: number, levels: FloodLevels, rule: FloodRule, holding: boolean, where: string): Verdict {
  const present = holding ? level > levels.alertLevel - rule.hysteresisMetres : level > levels.alertLevel;
  if (!present) return ABSENT;
  const metres = `${round(level, 2)} m`;
  if (level > levels.dangerLevel) {
    const description = `Water ${metres} at ${where}, above its danger level ${levels.dangerLevel} m`;
    return { active: true, type: 'flood_danger', severity: rule.dangerSeverity, value: level, description };
  }
  const upper = levels.alertLevel + rule.upperWarningFraction * (levels.dangerLevel - levels.alertLevel);
  return {
    active: true,
    type: 'flood_warning',
    severity: level > upper ? rule.upperWarningSeverity : rule.warningSeverity,
    value: level,
    description: `Water ${metres} at ${where}, above its alert level ${levels.alertLevel} m (danger at ${levels.dangerLevel} m)`,
  };
}

function highestBand(bands: readonly { severity: Severity }[]): Severity | undefined {
  const worse = (worst: Severity | undefined, band: { severity: Severity }) =>
    worst === undefined || severityRank(band.severity) > severityRank(worst) ? band.severity : worst;
  return bands.reduce<Severity | undefined>(worse, undefined);
}

function lowestBand(bands: readonly { severity: Severity }[]): Severity {
  return bands[0]?.severity ?? 'medium';
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
