/**
 * Parsing and validation of telemetry payloads. Device input is hostile: every field is checked
 * against the kind's table, and anything that does not fit is rejected with a reason a vendor can act on.
 */
import { isUtf8 } from 'node:buffer';
import { KINDS, type DeviceKind, type MetricSpec } from './kinds.js';
import { MAX_BATCH_READINGS, MAX_PAYLOAD_BYTES } from './topics.js';

export const REJECTION_REASONS = [
  'payload_too_large',
  'invalid_utf8',
  'invalid_json',
  'not_an_object',
  'batch_too_large',
  'empty_batch',
  'unknown_device',
  'unknown_field',
  'missing_field',
  'no_metrics',
  'wrong_type',
  'non_finite',
  'out_of_range',
  'invalid_timestamp',
  'future_timestamp',
  'too_old',
  'clock_ahead',
  'clock_behind',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export type MetricValue = number | boolean | string;

export interface Reading {
  /** Epoch milliseconds. */
  ts: number;
  /** The device's clock when it sent the message (`sentAt`), when it said. */
  sentAt?: number;
  values: Record<string, MetricValue>;
}

export interface Rejection {
  reason: RejectionReason;
  message: string;
  /** Position in a gateway batch, when the payload was an array. */
  index?: number;
}

export interface ParsedTelemetry {
  readings: Reading[];
  rejections: Rejection[];
}

export interface TimeWindow {
  /** Time the message was received, used when a reading has no `ts`. */
  now: number;
  /** Readings further in the future than this are refused (a device clock running ahead). */
  maxFutureMs: number;
  /** Readings older than this are refused: the raw retention policy would drop them anyway. */
  maxAgeMs: number;
  /**
   * A `sentAt` before this says the device's clock runs behind: the message cannot have been sent that
   * long before messages the platform is receiving now. Unset when there is nothing fresh to compare with.
   */
  earliestSentAt?: number;
}

export const DEFAULT_MAX_FUTURE_MS = 5 * 60 * 1000;
export const DEFAULT_MAX_AGE_MS = 30 * 24 * 3600 * 1000;

export function defaultTimeWindow(now = Date.now()): TimeWindow {
  return { now, maxFutureMs: DEFAULT_MAX_FUTURE_MS, maxAgeMs: DEFAULT_MAX_AGE_MS };
}

// ISO-8601 with a mandatory zone: a reading in local time without one would land hours off.
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
// Epoch values below this are almost certainly seconds, not milliseconds (it is 1973 in ms).
const EPOCH_SECONDS_SUSPECT = 1e11;

export function parseTelemetry(payload: Buffer, kind: DeviceKind, window: TimeWindow): ParsedTelemetry {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    return rejectWhole('payload_too_large', `payload is ${payload.length} bytes; the limit is ${MAX_PAYLOAD_BYTES}`);
  }
  if (!isUtf8(payload)) return rejectWhole('invalid_utf8', 'payload is not valid UTF-8');
  let document: unknown;
  try {
    document = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return rejectWhole('invalid_json', `payload is not JSON: ${(error as Error).message.slice(0, 120)}`);
  }
  if (Array.isArray(document)) {
    if (document.length === 0) return rejectWhole('empty_batch', 'a batch must hold at least one reading');
    if (document.length > MAX_BATCH_READINGS) {
      return rejectWhole('batch_too_large', `a batch holds at most ${MAX_BATCH_READINGS} readings, not ${document.length}`);
    }
    const result: ParsedTelemetry = { readings: [], rejections: [] };
    for (let index = 0; index < document.length; index++) {
      const outcome = validateReading(document[index], kind, window);
      if ('reason' in outcome) result.rejections.push({ ...outcome, index });
      else result.readings.push(outcome);
    }
    return result;
  }
  const outcome = validateReading(document, kind, window);
  return 'reason' in outcome ? { readings: [], rejections: [outcome] } : { readings: [outcome], rejections: [] };
}

function rejectWhole(reason: RejectionReason, message: string): ParsedTelemetry {
  return { readings: [], rejections: [{ reason, message }] };
}

/** Each kind's required metrics, listed once rather than found again for every reading. */
const REQUIRED = Object.fromEntries(
  Object.entries(KINDS).map(([kind, spec]) => [kind, Object.entries(spec.metrics as Readonly<Record<string, MetricSpec>>).filter(([, metric]) => metric.required).map(([name]) => name)]),
) as Record<DeviceKind, string[]>;

export function validateReading(item: unknown, kind: DeviceKind, window: TimeWindow): Reading | Rejection {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { reason: 'not_an_object', message: 'a reading must be a JSON object' };
  }
  const metrics: Readonly<Record<string, MetricSpec>> = KINDS[kind].metrics;
  const values: Record<string, MetricValue> = {};
  // The clock is judged before `ts`: with a wrong clock, every timestamp the device wrote is wrong too.
  const sentAt = 'sentAt' in item ? checkSentAt((item as { sentAt: unknown }).sentAt, window) : undefined;
  if (typeof sentAt === 'object') return sentAt;
  let ts = window.now;
  let count = 0;
  // `for…in` rather than Object.entries, which builds an array per field; own keys only, as Object.entries gives.
  for (const name in item) {
    if (name === 'sentAt' || !Object.hasOwn(item, name)) continue;
    const raw: unknown = (item as Record<string, unknown>)[name];
    if (name === 'ts') {
      const parsed = parseTimestamp(raw, window);
      if (typeof parsed !== 'number') return parsed;
      ts = parsed;
      continue;
    }
    const spec = Object.hasOwn(metrics, name) ? metrics[name] : undefined;
    if (!spec) {
      return { reason: 'unknown_field', message: `"${truncate(name)}" is not a ${kind} metric` };
    }
    const checked = checkValue(name, raw, spec);
    if (typeof checked === 'object') return checked;
    values[name] = checked;
    count++;
  }
  for (const name of REQUIRED[kind]) {
    if (!(name in values)) return { reason: 'missing_field', message: `"${name}" is required for ${kind}` };
  }
  if (count === 0) return { reason: 'no_metrics', message: 'a reading must carry at least one metric' };
  return sentAt === undefined ? { ts, values } : { ts, sentAt, values };
}

/**
 * `sentAt` is the device's clock when it sent the message. Nothing arrives before it is sent, so one
 * ahead of the platform's clock is a clock running ahead; one older than `earliestSentAt` is a clock
 * running behind. Either way its `ts` would land at the wrong time, so the reading is refused.
 */
function checkSentAt(raw: unknown, window: TimeWindow): number | Rejection {
  const sentAt = parseInstant(raw, 'sentAt');
  if (typeof sentAt !== 'number') return sentAt;
  if (sentAt > window.now + window.maxFutureMs) {
    return { reason: 'clock_ahead', message: `the device clock is ${formatOffset(sentAt - window.now)} ahead of the platform's; set it (NTP) and resend` };
  }
  if (window.earliestSentAt !== undefined && sentAt < window.earliestSentAt) {
    return { reason: 'clock_behind', message: `the device clock is about ${formatOffset(window.now - sentAt)} behind the platform's; set it (NTP) and resend` };
  }
  return sentAt;
}

function formatOffset(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes < 120 ? `${minutes} min` : `${(minutes / 60).toFixed(1)} h`;
}

function checkValue(name: string, raw: unknown, spec: MetricSpec): MetricValue | Rejection {
  switch (spec.type) {
    case 'boolean':
      return typeof raw === 'boolean' ? raw : wrongType(name, 'a boolean');
    case 'enum':
      if (typeof raw !== 'string') return wrongType(name, `one of ${spec.values?.join(', ')}`);
      return spec.values?.includes(raw)
        ? raw
        : { reason: 'out_of_range', message: `"${name}" must be one of ${spec.values?.join(', ')}` };
    case 'integer':
    case 'float': {
      if (typeof raw !== 'number') return wrongType(name, 'a number');
      if (!Number.isFinite(raw)) return { reason: 'non_finite', message: `"${name}" must be a finite number` };
      if (spec.type === 'integer' && !Number.isInteger(raw)) return wrongType(name, 'an integer');
      if ((spec.min !== undefined && raw < spec.min) || (spec.max !== undefined && raw > spec.max)) {
        return { reason: 'out_of_range', message: `"${name}" must be within ${spec.min}..${spec.max} ${spec.unit ?? ''}`.trimEnd() };
      }
      return raw;
    }
  }
}

export function parseTimestamp(raw: unknown, window: TimeWindow): number | Rejection {
  const ts = parseInstant(raw, 'ts');
  if (typeof ts !== 'number') return ts;
  if (ts > window.now + window.maxFutureMs) {
    return { reason: 'future_timestamp', message: `"ts" is ${Math.round((ts - window.now) / 1000)} s in the future; check the device clock` };
  }
  if (ts < window.now - window.maxAgeMs) {
    return { reason: 'too_old', message: `"ts" is older than ${Math.round(window.maxAgeMs / 86_400_000)} days` };
  }
  return ts;
}

function parseInstant(raw: unknown, field: 'ts' | 'sentAt'): number | Rejection {
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw) || raw < 0) {
      return { reason: 'invalid_timestamp', message: `"${field}" must be epoch milliseconds (an integer) or an ISO-8601 string` };
    }
    if (raw < EPOCH_SECONDS_SUSPECT) {
      return { reason: 'invalid_timestamp', message: `"${field}" looks like epoch seconds; send milliseconds` };
    }
    return raw;
  }
  if (typeof raw === 'string' && raw.length <= 40 && ISO_TIMESTAMP.test(raw)) {
    const instant = Date.parse(raw);
    if (Number.isNaN(instant) || !isCalendarDate(raw)) return { reason: 'invalid_timestamp', message: `"${field}" ${truncate(raw)} is not a real date` };
    return instant;
  }
  return {
    reason: 'invalid_timestamp',
    message: `"${field}" must be epoch milliseconds or ISO-8601 with a zone (e.g. 2025-06-01T07:30:00+07:00)`,
  };
}

/** Date.parse rolls 2025-02-30 over to 2 March instead of refusing it. */
function isCalendarDate(iso: string): boolean {
  const [year, month, day] = iso.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function wrongType(name: string, expected: string): Rejection {
  return { reason: 'wrong_type', message: `"${name}" must be ${expected}` };
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
