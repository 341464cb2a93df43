/**
 * Readings → InfluxDB line protocol. Device input never reaches the line unescaped: tag values and
 * field keys escape commas, equals signs and spaces; strings are quoted with `"` and `\` escaped. The
 * 1.x protocol has no escape for a line break anywhere, nor for a backslash in a tag (a trailing one
 * swallows the next separator), so values holding those are refused outright.
 */
import { KINDS, type DeviceKind, type MetricType, type Reading } from '@city/devices';

export class LineProtocolError extends Error {
  override name = 'LineProtocolError';
}

const NEEDS_ESCAPE = /[,= ]/;
const LINE_BREAK = /[\n\r]/;

function assertSingleLine(text: string, what: string): void {
  if (LINE_BREAK.test(text)) throw new LineProtocolError(`${what} contains a line break`);
}

export function escapeMeasurement(name: string): string {
  assertSingleLine(name, 'measurement');
  if (name.includes('\\')) throw new LineProtocolError('a measurement cannot hold a backslash');
  return /[, ]/.test(name) ? name.replace(/([, ])/g, '\\$1') : name;
}

export function escapeTag(text: string): string {
  assertSingleLine(text, 'tag');
  if (text.length === 0) throw new LineProtocolError('a tag value cannot be empty');
  if (text.includes('\\')) throw new LineProtocolError('a tag or field key cannot hold a backslash');
  return NEEDS_ESCAPE.test(text) ? text.replace(/([,= ])/g, '\\$1') : text;
}

export const escapeFieldKey = escapeTag;

export function quoteStringField(text: string): string {
  assertSingleLine(text, 'string field');
  return `"${text.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * Checks the type again although validation did: one malformed line makes InfluxDB refuse the whole
 * batch, and `1.5i` or a string written as a boolean would also fix the wrong field type for the shard.
 */
function formatValue(type: MetricType, value: number | boolean | string): string {
  switch (type) {
    case 'integer':
      if (!Number.isSafeInteger(value)) throw new LineProtocolError('an integer field must be a safe integer');
      return `${value}i`;
    case 'boolean':
      if (typeof value !== 'boolean') throw new LineProtocolError('a boolean field must be true or false');
      return value ? 'true' : 'false';
    case 'enum':
      if (typeof value !== 'string') throw new LineProtocolError('an enum field must be a string');
      return quoteStringField(value);
    case 'float':
      // String() may give exponent forms (1e-7, 1e+21); InfluxDB 1.6 parses them as floats.
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new LineProtocolError('a float field must be a finite number');
      return String(value);
  }
}

interface Field {
  key: string;
  type: MetricType;
  /** An enum's values, quoted once: validation let no other value through. */
  quoted?: Map<string, string>;
}

/** Field keys and types per kind, escaped once rather than for every reading. */
const FIELDS = Object.fromEntries(
  Object.entries(KINDS).map(([kind, spec]) => [
    kind,
    new Map(
      Object.entries(spec.metrics as Record<string, { type: MetricType; values?: readonly string[] }>).map(([name, metric]) => [
        name,
        { key: escapeFieldKey(name), type: metric.type, ...(metric.values && { quoted: new Map(metric.values.map((value) => [value, quoteStringField(value)])) }) },
      ]),
    ),
  ]),
) as Record<DeviceKind, Map<string, Field>>;

/**
 * A device's series key, `<kind>,device_id=<id>,zone=<zone>`, escaped once per device rather than for every
 * reading (escaping is the larger share of building a line); found by the device's id alone, and built again
 * when the device's kind or zone is no longer the one it was built for. Bounded like ingest's device directory.
 */
const SERIES_KEYS_MAX = 200_000;
const seriesKeys = new Map<string, { kind: DeviceKind; zone: string; key: string }>();

function seriesKey(kind: DeviceKind, deviceId: string, zone: string): string {
  const known = seriesKeys.get(deviceId);
  if (known !== undefined && known.kind === kind && known.zone === zone) return known.key;
  const key = `${escapeMeasurement(kind)},device_id=${escapeTag(deviceId)},zone=${escapeTag(zone)}`;
  if (seriesKeys.size >= SERIES_KEYS_MAX) seriesKeys.clear();
  seriesKeys.set(deviceId, { kind, zone, key });
  return key;
}

/** One point: `<kind>,device_id=<id>,zone=<zone> <fields> <ms>` (tags sorted by key, as InfluxDB prefers). */
export function toLine(kind: DeviceKind, deviceId: string, zone: string, reading: Reading): string {
  const fields = FIELDS[kind];
  let fieldSet = '';
  for (const name in reading.values) {
    const field = fields.get(name);
    if (!field) throw new LineProtocolError(`"${name}" is not a ${kind} metric`);
    const value = reading.values[name] as number | boolean | string;
    const text = (typeof value === 'string' && field.quoted?.get(value)) || formatValue(field.type, value);
    fieldSet += `${fieldSet ? ',' : ''}${field.key}=${text}`;
  }
  if (!fieldSet) throw new LineProtocolError('a point needs at least one field');
  if (!Number.isSafeInteger(reading.ts)) throw new LineProtocolError('the timestamp must be integer milliseconds');
  return `${seriesKey(kind, deviceId, zone)} ${fieldSet} ${reading.ts}`;
}

/**
 * One rollup point with the layout's field names (`<metric>` mean, `<metric>_min`, `<metric>_max`) and
 * the types continuous queries produce: the mean is a float, min and max keep an integer metric's type.
 */
export function toRollupLine(kind: DeviceKind, deviceId: string, zone: string, ts: number, aggregates: Record<string, { mean: number; min: number; max: number }>): string {
  const fields = FIELDS[kind];
  const parts: string[] = [];
  for (const [name, { mean, min, max }] of Object.entries(aggregates)) {
    const field = fields.get(name);
    if (!field || (field.type !== 'float' && field.type !== 'integer')) throw new LineProtocolError(`"${name}" is not a numeric ${kind} metric`);
    const extreme = (value: number) => (field.type === 'integer' ? `${Math.round(value)}i` : formatValue('float', value));
    parts.push(`${field.key}=${formatValue('float', mean)}`, `${field.key}_min=${extreme(min)}`, `${field.key}_max=${extreme(max)}`);
  }
  if (parts.length === 0) throw new LineProtocolError('a point needs at least one field');
  return `${escapeMeasurement(kind)},device_id=${escapeTag(deviceId)},zone=${escapeTag(zone)} ${parts.join(',')} ${ts}`;
}
