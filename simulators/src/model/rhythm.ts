/**
 * The city's daily rhythm, as a planner would recognise it: motorbike-heavy rush hours around 07:30 and
 * 17:30, a lunchtime shoulder, quiet nights, softer and later weekends; Da Nang's tropical temperature
 * cycle; and a semi-diurnal tide on the Hàn river.
 */
import { isWeekend, localHour } from './time.js';

const bump = (hour: number, centre: number, width: number) => Math.exp(-((hour - centre) ** 2) / (2 * width * width));

/** Traffic demand as a fraction of a road's capacity, before a road's own factor. */
export function trafficDemand(t: number): number {
  const hour = localHour(t);
  if (isWeekend(t)) {
    return 0.08 + 0.45 * bump(hour, 10, 2.5) + 0.55 * bump(hour, 18.5, 2.2) + 0.15 * bump(hour, 14, 3);
  }
  return 0.06 + 0.92 * bump(hour, 7.5, 0.9) + 0.35 * bump(hour, 12, 1.5) + 0.95 * bump(hour, 17.5, 1.1) + 0.25 * bump(hour, 20.5, 1.5);
}

/** Air temperature in °C: coolest before dawn, warmest mid-afternoon. */
export function temperature(t: number, seasonalMean = 27): number {
  return seasonalMean + 4 * Math.cos(((localHour(t) - 14.5) / 24) * 2 * Math.PI);
}

const M2_PERIOD_HOURS = 12.42;
const K1_PERIOD_HOURS = 23.93;

/** Tide at the Hàn river mouth in metres around mean level (mixed, mostly diurnal in the Gulf of Tonkin region). */
export function tide(t: number): number {
  const hours = t / 3_600_000;
  return 0.35 * Math.sin((2 * Math.PI * hours) / K1_PERIOD_HOURS) + 0.2 * Math.sin((2 * Math.PI * hours) / M2_PERIOD_HOURS + 1.1);
}
