/** Numbers, times and ages in the language's own conventions (Intl), cached per language and options. */
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** Da Nang's clock: the operations centre reads local time whatever the browser's zone. */
export const CITY_TIME_ZONE = 'Asia/Ho_Chi_Minh';

function locale(language: string): string {
  return language === 'vi' ? 'vi-VN' : 'en-GB';
}

export function formatNumber(language: string, value: number, maximumFractionDigits = 1): string {
  const key = `${language}|${maximumFractionDigits}`;
  let format = numberFormats.get(key);
  if (!format) numberFormats.set(key, (format = new Intl.NumberFormat(locale(language), { maximumFractionDigits })));
  return format.format(value);
}

export function formatPercent(language: string, ratio: number): string {
  return `${formatNumber(language, ratio * 100, 0)} %`;
}

function dateFormat(language: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${language}|${JSON.stringify(options)}`;
  let format = dateFormats.get(key);
  if (!format) dateFormats.set(key, (format = new Intl.DateTimeFormat(locale(language), { timeZone: CITY_TIME_ZONE, ...options })));
  return format;
}

export function formatDateTime(language: string, epochMs: number): string {
  return dateFormat(language, { dateStyle: 'short', timeStyle: 'short' }).format(epochMs);
}

export function formatTime(language: string, epochMs: number): string {
  return dateFormat(language, { hour: '2-digit', minute: '2-digit' }).format(epochMs);
}

export function formatDayMonth(language: string, epochMs: number): string {
  return dateFormat(language, { day: 'numeric', month: 'numeric' }).format(epochMs);
}

export function formatDate(language: string, epochMs: number): string {
  return dateFormat(language, { weekday: 'short', day: 'numeric', month: 'numeric', year: 'numeric' }).format(epochMs);
}

/** "5 minutes ago" / "5 phút trước", in the largest unit that fits. */
export function formatAge(language: string, epochMs: number, now = Date.now()): string {
  const seconds = Math.round((epochMs - now) / 1000);
  const format = new Intl.RelativeTimeFormat(locale(language), { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return format.format(seconds, 'second');
  if (abs < 3600) return format.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return format.format(Math.round(seconds / 3600), 'hour');
  return format.format(Math.round(seconds / 86_400), 'day');
}

/** `YYYY-MM-DD` of an instant on the city's clock, for date inputs. */
export function cityDate(epochMs: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: CITY_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(epochMs);
}

/** Midnight of a `YYYY-MM-DD` on the city's clock (UTC+7, no daylight saving). */
export function cityMidnight(date: string): number {
  return Date.parse(`${date}T00:00:00+07:00`);
}
