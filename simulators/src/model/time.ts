/** Da Nang's clock and sun: local time is UTC+7 all year (no daylight saving). */

export const UTC_OFFSET_HOURS = 7;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const DA_NANG = { lon: 108.2022, lat: 16.0544 };

/** Hours since local midnight, fractional. */
export function localHour(t: number): number {
  return ((((t + UTC_OFFSET_HOURS * HOUR) % DAY) + DAY) % DAY) / HOUR;
}

/** 0 = Sunday … 6 = Saturday, in local time. */
export function localWeekday(t: number): number {
  return new Date(t + UTC_OFFSET_HOURS * HOUR).getUTCDay();
}

export function isWeekend(t: number): boolean {
  const day = localWeekday(t);
  return day === 0 || day === 6;
}

/** Local day number (days since the epoch in local time), a key for per-day randomness. */
export function localDay(t: number): number {
  return Math.floor((t + UTC_OFFSET_HOURS * HOUR) / DAY);
}

/** Month 1–12 in local time. */
export function localMonth(t: number): number {
  return new Date(t + UTC_OFFSET_HOURS * HOUR).getUTCMonth() + 1;
}

/**
 * Sunrise and sunset in local hours for Da Nang on the day of `t`, from the standard solar-declination
 * and equation-of-time approximation (good to a few minutes, which is what a streetlight needs).
 */
export function sunTimes(t: number, location = DA_NANG): { sunrise: number; sunset: number } {
  const date = new Date(t + UTC_OFFSET_HOURS * HOUR);
  const start = Date.UTC(date.getUTCFullYear(), 0, 0);
  const dayOfYear = Math.floor((date.getTime() - start) / DAY);
  const gamma = ((2 * Math.PI) / 365) * (dayOfYear - 1);
  const declination =
    0.006918 - 0.399912 * Math.cos(gamma) + 0.070257 * Math.sin(gamma) - 0.006758 * Math.cos(2 * gamma) + 0.000907 * Math.sin(2 * gamma);
  const equationOfTime =
    229.18 * (0.000075 + 0.001868 * Math.cos(gamma) - 0.032077 * Math.sin(gamma) - 0.014615 * Math.cos(2 * gamma) - 0.040849 * Math.sin(2 * gamma));
  const latitude = (location.lat * Math.PI) / 180;
  const zenith = (90.833 * Math.PI) / 180;
  const hourAngle = (Math.acos(Math.cos(zenith) / (Math.cos(latitude) * Math.cos(declination)) - Math.tan(latitude) * Math.tan(declination)) * 180) / Math.PI;
  const noonMinutesUtc = 720 - 4 * location.lon - equationOfTime;
  const toLocal = (minutesUtc: number) => (((minutesUtc / 60 + UTC_OFFSET_HOURS) % 24) + 24) % 24;
  return { sunrise: toLocal(noonMinutesUtc - 4 * hourAngle), sunset: toLocal(noonMinutesUtc + 4 * hourAngle) };
}
