import { describe, it, expect } from 'vitest';
import type { DeviceKind } from '../src/kinds.js';
import {
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MAX_FUTURE_MS,
  defaultTimeWindow,
  parseTelemetry,
  REJECTION_REASONS,
  validateReading,
  type ParsedTelemetry,
  type RejectionReason,
} from '../src/telemetry.js';
import { MAX_BATCH_READINGS, MAX_PAYLOAD_BYTES } from '../src/topics.js';

const NOW = Date.parse('2025-06-01T00:30:00Z');
const window = defaultTimeWindow(NOW);
const traffic = { intensity: 1840, averageVehicleSpeed: 23.5, occupancy: 0.41 };

const parse = (payload: unknown, kind: DeviceKind = 'traffic'): ParsedTelemetry =>
  parseTelemetry(Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), kind, window);

/** The single reason a one-reading payload was refused for. */
const reason = (payload: unknown, kind: DeviceKind = 'traffic'): RejectionReason | undefined => {
  const result = parse(payload, kind);
  expect(result.readings).toHaveLength(0);
  expect(result.rejections).toHaveLength(1);
  return result.rejections[0]?.reason;
};

const tsOf = (ts: unknown): number | RejectionReason | undefined => {
  const result = parse({ ...traffic, ts });
  return result.readings[0]?.ts ?? result.rejections[0]?.reason;
};

describe('parseTelemetry: accepted readings', () => {
  it('takes a single reading, stamped with the arrival time when it has no ts', () => {
    expect(parse(traffic)).toEqual({ readings: [{ ts: NOW, values: traffic }], rejections: [] });
  });

  it('keeps each kind’s value types: booleans, integers and enums', () => {
    expect(parse({ ...traffic, congested: true }).readings[0]?.values.congested).toBe(true);
    expect(parse({ occupiedSpotNumber: 12, totalSpotNumber: 40 }, 'parking').readings[0]?.values).toEqual({
      occupiedSpotNumber: 12,
      totalSpotNumber: 40,
    });
    expect(parse({ powerState: 'low', illuminanceLevel: 0.3, powerConsumption: 41.5 }, 'streetlight').readings).toHaveLength(1);
  });

  it('needs only one of the optional air-quality metrics', () => {
    expect(parse({ pm25: 35.2 }, 'air_quality').readings[0]?.values).toEqual({ pm25: 35.2 });
  });

  it('accepts values on the range limits', () => {
    expect(parse({ intensity: 0, averageVehicleSpeed: 300, occupancy: 1 }).readings).toHaveLength(1);
    expect(parse({ currentLevel: -50 }, 'water_level').readings).toHaveLength(1);
  });
});

describe('parseTelemetry: timestamps', () => {
  it('takes epoch milliseconds', () => {
    expect(tsOf(NOW - 60_000)).toBe(NOW - 60_000);
  });

  it('takes ISO-8601 with Z or an offset, with or without seconds and fractions', () => {
    expect(tsOf('2025-06-01T00:29:00Z')).toBe(NOW - 60_000);
    expect(tsOf('2025-06-01T07:29:00+07:00')).toBe(NOW - 60_000);
    expect(tsOf('2025-06-01T07:29:00+0700')).toBe(NOW - 60_000);
    expect(tsOf('2025-06-01T07:29+07:00')).toBe(NOW - 60_000);
    expect(tsOf('2025-06-01T00:29:00.250Z')).toBe(NOW - 59_750);
    expect(tsOf('2025-05-31T19:29:00-05:00')).toBe(NOW - 60_000);
  });

  it('refuses ISO-8601 without a zone, since local time would land hours off', () => {
    expect(tsOf('2025-06-01T07:29:00')).toBe('invalid_timestamp');
    expect(tsOf('2025-06-01')).toBe('invalid_timestamp');
    expect(tsOf('2025-06-01 07:29:00Z')).toBe('invalid_timestamp');
  });

  it('refuses dates that do not exist', () => {
    expect(tsOf('2025-02-30T00:00:00Z')).toBe('invalid_timestamp');
    expect(tsOf('2025-04-31T00:00:00+07:00')).toBe('invalid_timestamp');
    expect(tsOf('2025-13-01T00:00:00Z')).toBe('invalid_timestamp');
    expect(tsOf('2025-06-01T25:00:00Z')).toBe('invalid_timestamp');
    expect(parse({ ...traffic, ts: '2025-02-30T00:00:00Z' }).rejections[0]?.message).toMatch(/not a real date/);
  });

  it('suspects epoch seconds and says so', () => {
    const result = parse({ ...traffic, ts: Math.floor(NOW / 1000) });
    expect(result.rejections[0]).toMatchObject({ reason: 'invalid_timestamp', message: expect.stringMatching(/seconds/) });
  });

  it('refuses other kinds of ts', () => {
    for (const ts of [-1, NOW + 0.5, 1e300, null, true, {}, [], '', 'yesterday', `2025-06-01T00:29:00${'0'.repeat(40)}Z`]) {
      expect({ ts, reason: tsOf(ts) }).toEqual({ ts, reason: 'invalid_timestamp' });
    }
  });

  it('refuses readings too far in the future or older than the raw retention', () => {
    expect(tsOf(NOW + DEFAULT_MAX_FUTURE_MS)).toBe(NOW + DEFAULT_MAX_FUTURE_MS);
    expect(tsOf(NOW + DEFAULT_MAX_FUTURE_MS + 1)).toBe('future_timestamp');
    expect(tsOf(NOW - DEFAULT_MAX_AGE_MS)).toBe(NOW - DEFAULT_MAX_AGE_MS);
    expect(tsOf(NOW - DEFAULT_MAX_AGE_MS - 1)).toBe('too_old');
    expect(parse({ ...traffic, ts: NOW + 3_600_000 }).rejections[0]?.message).toMatch(/3600 s in the future/);
  });
});

describe('parseTelemetry: the device clock (sentAt)', () => {
  const HOUR = 3_600_000;
  const judged = (sentAt: unknown, earliestSentAt?: number) =>
    parseTelemetry(Buffer.from(JSON.stringify({ ...traffic, ts: NOW - HOUR, sentAt })), 'traffic', { ...window, earliestSentAt });

  it('keeps sentAt beside ts, which is still the time of the reading', () => {
    expect(judged(NOW).readings[0]).toEqual({ ts: NOW - HOUR, sentAt: NOW, values: traffic });
    expect(judged('2025-06-01T07:30:00+07:00').readings[0]?.sentAt).toBe(NOW);
  });

  it('refuses a clock ahead of the platform even for a reading whose ts looks plausible', () => {
    expect(judged(NOW + DEFAULT_MAX_FUTURE_MS).readings).toHaveLength(1);
    const refused = judged(NOW + 3 * HOUR).rejections[0];
    expect(refused).toMatchObject({ reason: 'clock_ahead', message: expect.stringMatching(/3\.0 h ahead/) });
  });

  it('refuses a clock behind the earliest sentAt a sound clock could have, and judges none without one', () => {
    expect(judged(NOW - 3 * HOUR, NOW - 15 * 60_000).rejections[0]).toMatchObject({ reason: 'clock_behind', message: expect.stringMatching(/3\.0 h behind/) });
    expect(judged(NOW - 10 * 60_000, NOW - 15 * 60_000).readings).toHaveLength(1);
    expect(judged(NOW - 3 * HOUR).readings).toHaveLength(1);
  });

  it('refuses a sentAt that is not a time, like ts', () => {
    expect(judged('yesterday').rejections[0]).toMatchObject({ reason: 'invalid_timestamp', message: expect.stringMatching(/"sentAt"/) });
    expect(judged(Math.floor(NOW / 1000)).rejections[0]?.reason).toBe('invalid_timestamp');
  });
});

describe('parseTelemetry: each rejection reason', () => {
  it('payload_too_large beyond 64 KiB, measured in bytes', () => {
    const padded = (bytes: number) => {
      const base = JSON.stringify(traffic);
      return `${base.slice(0, -1)}${' '.repeat(bytes - base.length)}}`;
    };
    expect(parse(padded(MAX_PAYLOAD_BYTES)).readings).toHaveLength(1);
    expect(reason(padded(MAX_PAYLOAD_BYTES + 1))).toBe('payload_too_large');
    const multibyte = `{"pm25":1,"x":"${'é'.repeat(MAX_PAYLOAD_BYTES / 2)}"}`;
    expect(multibyte.length).toBeLessThan(MAX_PAYLOAD_BYTES);
    expect(reason(multibyte, 'air_quality')).toBe('payload_too_large');
  });

  it('invalid_utf8', () => {
    expect(reason(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]))).toBe('invalid_utf8');
    expect(reason(Buffer.from([0xc3, 0x28]))).toBe('invalid_utf8');
    // An overlong encoding of "/" and a lone surrogate half are not valid UTF-8 either.
    expect(reason(Buffer.from([0xc0, 0xaf]))).toBe('invalid_utf8');
    expect(reason(Buffer.from([0xed, 0xa0, 0x80]))).toBe('invalid_utf8');
  });

  it('invalid_json', () => {
    for (const text of ['', '{', '{"intensity": 1,}', "{'intensity': 1}", 'NaN', '{"intensity": Infinity}']) {
      expect({ text, reason: reason(text) }).toEqual({ text, reason: 'invalid_json' });
    }
  });

  it('not_an_object', () => {
    for (const document of ['42', '"text"', 'null', 'true']) expect(reason(document)).toBe('not_an_object');
    expect(parse([[traffic], null]).rejections.map(({ index, reason }) => [index, reason])).toEqual([
      [0, 'not_an_object'],
      [1, 'not_an_object'],
    ]);
  });

  it('empty_batch and batch_too_large', () => {
    expect(reason([])).toBe('empty_batch');
    // Small readings, so that the batch stays within 64 KiB and only its length matters.
    const readings = (count: number) => Array.from({ length: count }, (_, i) => ({ pm25: i % 100 }));
    expect(parse(readings(MAX_BATCH_READINGS), 'air_quality').readings).toHaveLength(MAX_BATCH_READINGS);
    expect(reason(readings(MAX_BATCH_READINGS + 1), 'air_quality')).toBe('batch_too_large');
  });

  it('unknown_field, including keys that exist on every object', () => {
    expect(reason({ ...traffic, speed: 3 })).toBe('unknown_field');
    expect(reason('{"intensity":1,"averageVehicleSpeed":2,"occupancy":0.1,"__proto__":{"polluted":true}}')).toBe('unknown_field');
    expect(reason({ ...traffic, constructor: 1 })).toBe('unknown_field');
    expect(reason({ ...traffic, toString: 1 })).toBe('unknown_field');
    expect(reason({ ...traffic, hasOwnProperty: 1 })).toBe('unknown_field');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(parse({ ...traffic, ['x'.repeat(500)]: 1 }).rejections[0]?.message.length).toBeLessThan(120);
  });

  it('missing_field', () => {
    expect(reason({ intensity: 1, averageVehicleSpeed: 2 })).toBe('missing_field');
    expect(reason({ occupiedSpotNumber: 1 }, 'parking')).toBe('missing_field');
  });

  it('no_metrics', () => {
    expect(reason({}, 'air_quality')).toBe('no_metrics');
    expect(reason({ ts: NOW }, 'air_quality')).toBe('no_metrics');
  });

  it('wrong_type', () => {
    expect(reason({ ...traffic, intensity: '1840' })).toBe('wrong_type');
    expect(reason({ ...traffic, intensity: null })).toBe('wrong_type');
    expect(reason({ ...traffic, congested: 'yes' })).toBe('wrong_type');
    expect(reason({ ...traffic, congested: 1 })).toBe('wrong_type');
    expect(reason({ occupiedSpotNumber: 1.5, totalSpotNumber: 10 }, 'parking')).toBe('wrong_type');
    expect(reason({ powerState: 1, illuminanceLevel: 1, powerConsumption: 1 }, 'streetlight')).toBe('wrong_type');
  });

  it('non_finite, for numbers too large for a double', () => {
    expect(reason('{"intensity":1e999,"averageVehicleSpeed":2,"occupancy":0.1}')).toBe('non_finite');
    expect(reason('{"pm25":-1e999}', 'air_quality')).toBe('non_finite');
  });

  it('out_of_range, for numbers and enums', () => {
    expect(reason({ ...traffic, occupancy: 1.01 })).toBe('out_of_range');
    expect(reason({ ...traffic, intensity: -1 })).toBe('out_of_range');
    expect(reason({ temperature: 71 }, 'air_quality')).toBe('out_of_range');
    expect(reason({ powerState: 'dim', illuminanceLevel: 1, powerConsumption: 1 }, 'streetlight')).toBe('out_of_range');
    expect(parse({ ...traffic, occupancy: 2 }).rejections[0]?.message).toBe('"occupancy" must be within 0..1 1');
  });

  it('covers every reason but unknown_device, which ingest decides from the registry', () => {
    expect([...REJECTION_REASONS].sort()).toEqual(
      [
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
      ].sort(),
    );
  });
});

describe('parseTelemetry: gateway batches', () => {
  it('stores the valid readings and reports the invalid ones with their index', () => {
    const result = parse([
      { ...traffic, ts: NOW - 2000 },
      { ...traffic, occupancy: 7 },
      'not a reading',
      { ...traffic, ts: NOW - 1000 },
      { ...traffic, ts: Math.floor(NOW / 1000) },
    ]);
    expect(result.readings.map((reading) => reading.ts)).toEqual([NOW - 2000, NOW - 1000]);
    expect(result.rejections.map(({ index, reason }) => [index, reason])).toEqual([
      [1, 'out_of_range'],
      [2, 'not_an_object'],
      [4, 'invalid_timestamp'],
    ]);
  });

  it('stamps readings without ts with the arrival time', () => {
    expect(parse([traffic, traffic]).readings.map((reading) => reading.ts)).toEqual([NOW, NOW]);
  });
});

describe('validateReading', () => {
  it('judges one already-parsed reading', () => {
    expect(validateReading({ LAeq: 61.2, LAmax: 78 }, 'noise', window)).toEqual({ ts: NOW, values: { LAeq: 61.2, LAmax: 78 } });
    expect(validateReading({ LAeq: 61.2 }, 'noise', window)).toMatchObject({ reason: 'missing_field' });
  });
});
