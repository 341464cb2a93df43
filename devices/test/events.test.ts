import { describe, expect, it } from 'vitest';
import { parseEvent } from '../src/events.js';
import { defaultTimeWindow } from '../src/telemetry.js';

const NOW = Date.parse('2025-06-01T07:30:00+07:00');
const parse = (payload: unknown) => parseEvent(Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), defaultTimeWindow(NOW));

describe('device events', () => {
  it('takes a type, a timestamp and a detail object', () => {
    expect(parse({ type: 'accident', ts: NOW - 1000, detail: { lanesBlocked: 2 } })).toEqual({ type: 'accident', ts: NOW - 1000, detail: { lanesBlocked: 2 } });
    expect(parse({ type: 'tamper' })).toEqual({ type: 'tamper', ts: NOW, detail: {} });
  });

  it('refuses what a vendor must fix, with the reason', () => {
    expect(parse('{"type":')).toMatchObject({ reason: 'invalid_json' });
    expect(parse([{ type: 'accident' }])).toMatchObject({ reason: 'not_an_object' });
    expect(parse({ type: 'Accident!' })).toMatchObject({ reason: 'wrong_type' });
    expect(parse({ type: 'accident', detail: [1] })).toMatchObject({ reason: 'wrong_type' });
    expect(parse({ type: 'accident', extra: 1 })).toMatchObject({ reason: 'unknown_field' });
    expect(parse({ type: 'accident', ts: NOW + 3_600_000 })).toMatchObject({ reason: 'future_timestamp' });
    expect(parse({ type: 'accident', detail: { text: 'x'.repeat(9000) } })).toMatchObject({ reason: 'payload_too_large' });
    expect(parseEvent(Buffer.from([0x7b, 0xff, 0x7d]), defaultTimeWindow(NOW))).toMatchObject({ reason: 'invalid_utf8' });
  });
});
