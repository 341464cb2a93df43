/**
 * Device-detected events (`devices/{id}/events`), e.g. a bridge camera's accident detection:
 * `{"type":"accident","ts":<epoch ms or ISO-8601 with zone>,"detail":{...}}`. Hostile input like telemetry.
 */
import { isUtf8 } from 'node:buffer';
import { parseTimestamp, type Rejection, type TimeWindow } from './telemetry.js';

export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
export const MAX_EVENT_BYTES = 8 * 1024;

export interface ParsedEvent {
  type: string;
  ts: number;
  detail: Record<string, unknown>;
}

export function parseEvent(payload: Buffer, window: TimeWindow): ParsedEvent | Rejection {
  if (payload.length > MAX_EVENT_BYTES) return { reason: 'payload_too_large', message: `an event is at most ${MAX_EVENT_BYTES} bytes` };
  if (!isUtf8(payload)) return { reason: 'invalid_utf8', message: 'payload is not valid UTF-8' };
  let document: unknown;
  try {
    document = JSON.parse(payload.toString('utf8'));
  } catch {
    return { reason: 'invalid_json', message: 'payload is not JSON' };
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return { reason: 'not_an_object', message: 'an event must be a JSON object' };
  const { type, ts, detail, ...rest } = document as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) return { reason: 'unknown_field', message: `unknown field "${unknown.slice(0, 40)}": an event has type, ts and detail` };
  if (typeof type !== 'string' || !EVENT_TYPE_PATTERN.test(type)) return { reason: 'wrong_type', message: '"type" must be 1–32 characters of a–z 0–9 _, starting with a letter' };
  if (detail !== undefined && (typeof detail !== 'object' || detail === null || Array.isArray(detail))) {
    return { reason: 'wrong_type', message: '"detail" must be an object' };
  }
  const at = ts === undefined ? window.now : parseTimestamp(ts, window);
  if (typeof at !== 'number') return at;
  return { type, ts: at, detail: (detail ?? {}) as Record<string, unknown> };
}
