/**
 * Hostile telemetry a device can send with valid credentials: broken JSON and UTF-8, nesting, numbers
 * JSON cannot hold, wrong types, unknown fields, oversized arrays, payloads at the size limit, control
 * characters, line-protocol injection in every position a device controls, and topics it must not use.
 * Each message carries the verdict the platform owes it — which reasons ingest counts, or that the
 * broker refuses it — so that the fuzz test can check every rejection was counted, and by its reason.
 */
import { KINDS, MAX_BATCH_READINGS, type DeviceKind, type MetricSpec, type RejectionReason } from '@city/devices';
import type { SeededRandom } from './seeded-random.js';

/** Published on the device's own telemetry topic; ingest must count exactly these rejections and store nothing. */
export interface HostileTelemetry {
  mode: 'telemetry';
  category: string;
  payload: Buffer;
  rejections: Partial<Record<RejectionReason, number>>;
}

/** Published on a topic the device may not use; the broker acknowledges, drops and counts it as `acl_publish`. */
export interface HostileTopic {
  mode: 'topic';
  category: string;
  topic: string;
  payload: Buffer;
}

export type HostileMessage = HostileTelemetry | HostileTopic;

export interface HostileContext {
  deviceId: string;
  kind: DeviceKind;
  /** Another registered device, whose topics this one must not reach. */
  otherDeviceId: string;
  /** The largest payload whose PUBLISH on the device's telemetry topic still fits the broker's packet limit. */
  atLimitPayloadBytes: number;
  now: number;
}

/** Strings that would end a line-protocol point, open a new one, or bend its field and tag syntax. */
export const INJECTIONS: readonly string[] = [
  'on\nstreetlight,device_id=evil powerConsumption=1 1',
  'on" ,injected=1',
  'x=1,y=2 3',
  'a b',
  'a,b',
  'a=b',
  '\\',
  'x\\ y',
  '"',
  "'",
  '1i',
  'true',
  't',
  '1.5 1700000000000',
  'on\r\nDROP DATABASE city',
  '# comment',
  'on\u0000',
  '\u202e',
  'devices/+/telemetry',
  '../../etc/passwd',
];

const one = (reason: RejectionReason): Partial<Record<RejectionReason, number>> => ({ [reason]: 1 });

/** A reading every metric of which is valid, so that a single mutation decides the reason. */
export function validReading(kind: DeviceKind): Record<string, unknown> {
  const reading: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(KINDS[kind].metrics) as [string, MetricSpec][]) {
    if (!spec.required && Object.keys(reading).length > 0) continue;
    if (spec.type === 'boolean') reading[name] = true;
    else if (spec.type === 'enum') reading[name] = spec.values?.[0];
    else if (spec.type === 'integer') reading[name] = spec.min ?? 0;
    else reading[name] = ((spec.min ?? 0) + (spec.max ?? 1)) / 2;
  }
  return reading;
}

function metricsOfKind(kind: DeviceKind, ...types: MetricSpec['type'][]): string[] {
  return (Object.entries(KINDS[kind].metrics) as [string, MetricSpec][]).filter(([, spec]) => types.includes(spec.type)).map(([name]) => name);
}

function requiredMetrics(kind: DeviceKind): string[] {
  return (Object.entries(KINDS[kind].metrics) as [string, MetricSpec][]).filter(([, spec]) => spec.required).map(([name]) => name);
}

/** `{}` lacks the kind's required metrics, or — for a kind without any — any metric at all. */
function emptyReadingReason(kind: DeviceKind): RejectionReason {
  return requiredMetrics(kind).length > 0 ? 'missing_field' : 'no_metrics';
}

/** The reading with `field` set to `value` as its first key: validation stops at the first bad field, so it decides. */
function withFirst(reading: Record<string, unknown>, field: string, value: unknown): Record<string, unknown> {
  const rest = { ...reading };
  delete rest[field];
  return { [field]: value, ...rest };
}

/** JSON text of the reading with `field` first, its value spliced in verbatim (for what JSON.stringify cannot write). */
function withRawFirst(reading: Record<string, unknown>, field: string, rawValue: string): string {
  const rest = JSON.stringify(withFirst(reading, field, 0)).slice(`{${JSON.stringify(field)}:0`.length);
  return `{${JSON.stringify(field)}:${rawValue}${rest}`;
}

type Generator = (random: SeededRandom, context: HostileContext) => HostileMessage;

const telemetry = (category: string, payload: string | Buffer, rejections: Partial<Record<RejectionReason, number>>): HostileTelemetry => ({
  mode: 'telemetry',
  category,
  payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
  rejections,
});

const GENERATORS: Record<string, Generator> = {
  truncated_json(random, { kind, now }) {
    const text = JSON.stringify({ ts: now, ...validReading(kind) });
    return telemetry('truncated_json', text.slice(0, random.int(1, text.length - 1)), one('invalid_json'));
  },
  invalid_json(random, { kind }) {
    const numeric = metricsOfKind(kind, 'float', 'integer')[0] as string;
    const texts = ['', ' ', '{', '}', "{'a':1}", '{"a":1,}', '[1,2', 'undefined', `{"${numeric}":01}`, `{"${numeric}":+1}`, `{"${numeric}":.5}`, '{"a":"\\x41"}', 'streetlight,device_id=evil powerConsumption=1 1\n', '\ufeff{}'];
    return telemetry('invalid_json', random.pick(texts), one('invalid_json'));
  },
  literal_nan_infinity(random, { kind }) {
    const numeric = random.pick(metricsOfKind(kind, 'float', 'integer'));
    return telemetry('literal_nan_infinity', withRawFirst(validReading(kind), numeric, random.pick(['NaN', 'Infinity', '-Infinity', 'nan', 'inf'])), one('invalid_json'));
  },
  invalid_utf8(random, { kind, now }) {
    const text = Buffer.from(JSON.stringify({ ts: now, ...validReading(kind) }));
    const bad = random.pick([[0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x80]]);
    const at = random.int(0, text.length);
    return telemetry('invalid_utf8', Buffer.concat([text.subarray(0, at), Buffer.from(bad), text.subarray(at)]), one('invalid_utf8'));
  },
  control_characters(random, { kind }) {
    const control = String.fromCharCode(random.int(0, 31));
    const enumField = metricsOfKind(kind, 'enum')[0];
    // Unescaped inside a string JSON refuses it; escaped, it is a value or a key no metric has.
    const variants: [string, RejectionReason][] = [
      [`{"${control}":1}`, 'invalid_json'],
      [JSON.stringify(withFirst(validReading(kind), `metric${control}`, 1)), 'unknown_field'],
      enumField ? [JSON.stringify(withFirst(validReading(kind), enumField, `on${control}`)), 'out_of_range'] : [JSON.stringify(control), 'not_an_object'],
    ];
    const [text, reason] = random.pick(variants);
    return telemetry('control_characters', text, one(reason));
  },
  deep_nesting(random, { kind, atLimitPayloadBytes }) {
    const depth = random.int(100, Math.floor(atLimitPayloadBytes / 6));
    const numeric = metricsOfKind(kind, 'float', 'integer')[0] as string;
    const nested = () => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    // Built only once picked: each is tens of kilobytes, and the fuzzer draws a hundred thousand messages.
    const variants: (() => [string, RejectionReason])[] = [
      // A batch of one reading that is an array.
      () => [nested(), 'not_an_object'],
      () => [`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`, 'unknown_field'],
      () => [withRawFirst(validReading(kind), numeric, nested()), 'wrong_type'],
    ];
    const [text, reason] = random.pick(variants)();
    return telemetry('deep_nesting', text, one(reason));
  },
  huge_numbers(random, { kind }) {
    const numeric = random.pick(metricsOfKind(kind, 'float', 'integer'));
    const variants: [string, RejectionReason][] = [
      ['1e309', 'non_finite'],
      ['-1e400', 'non_finite'],
      [`1${'0'.repeat(400)}`, 'non_finite'],
      ['1e308', 'out_of_range'],
      ['-1e308', 'out_of_range'],
      ['123456789012345678901234567890', 'out_of_range'],
    ];
    const [raw, reason] = random.pick(variants);
    return telemetry('huge_numbers', withRawFirst(validReading(kind), numeric, raw), one(reason));
  },
  bad_timestamps(random, { kind, now }) {
    const variants: [unknown, RejectionReason][] = [
      [1e20, 'invalid_timestamp'],
      [-1, 'invalid_timestamp'],
      [now + 0.5, 'invalid_timestamp'],
      [Math.floor(now / 1000), 'invalid_timestamp'],
      ['yesterday', 'invalid_timestamp'],
      ['2025-02-30T00:00:00Z', 'invalid_timestamp'],
      ['2025-06-01T07:30:00', 'invalid_timestamp'],
      [`${now}\nx y=1`, 'invalid_timestamp'],
      [{ $date: now }, 'invalid_timestamp'],
      [true, 'invalid_timestamp'],
      [null, 'invalid_timestamp'],
      [now + 86_400_000, 'future_timestamp'],
      [8.64e15, 'future_timestamp'],
      [now - 40 * 86_400_000, 'too_old'],
      [1e11, 'too_old'],
    ];
    const [ts, reason] = random.pick(variants);
    return telemetry('bad_timestamps', JSON.stringify(withFirst(validReading(kind), 'ts', ts)), one(reason));
  },
  wrong_types(random, { kind }) {
    const numeric = random.pick(metricsOfKind(kind, 'float', 'integer'));
    const value = random.pick<unknown>(['12', 'NaN', 'Infinity', true, null, {}, [], [1], { valueOf: 1 }]);
    const variants: [string, RejectionReason][] = [
      [JSON.stringify(withFirst(validReading(kind), numeric, value)), 'wrong_type'],
      [random.pick(['null', 'true', '42', '"reading"', '-0']), 'not_an_object'],
    ];
    const enumField = metricsOfKind(kind, 'enum')[0];
    if (enumField) variants.push([JSON.stringify(withFirst(validReading(kind), enumField, random.pick<unknown>([1, true, null, ['on']]))), 'wrong_type']);
    const integer = metricsOfKind(kind, 'integer')[0];
    if (integer) variants.push([JSON.stringify(withFirst(validReading(kind), integer, 1.5)), 'wrong_type']);
    const [text, reason] = random.pick(variants);
    return telemetry('wrong_types', text, one(reason));
  },
  unknown_fields(random, { kind }) {
    const name = random.pick(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'evil', 'device_id', 'zone', 'time', '', 'TS', ...INJECTIONS]);
    const text = name === '__proto__' ? withRawFirst(validReading(kind), '__proto__', '{"polluted":true}') : JSON.stringify(withFirst(validReading(kind), name, 1));
    return telemetry('unknown_fields', text, one('unknown_field'));
  },
  missing_fields(random, { kind }) {
    const variants: [string, RejectionReason][] = [['{}', emptyReadingReason(kind)]];
    const required = requiredMetrics(kind);
    if (required.length > 0) {
      const reading = validReading(kind);
      delete reading[random.pick(required)];
      variants.push([JSON.stringify(reading), 'missing_field']);
    }
    const [text, reason] = random.pick(variants);
    return telemetry('missing_fields', text, one(reason));
  },
  line_protocol_injection(random, { kind }) {
    const injection = random.pick(INJECTIONS);
    const enumField = metricsOfKind(kind, 'enum')[0];
    const numeric = random.pick(metricsOfKind(kind, 'float', 'integer'));
    // Every position a device's JSON reaches: a field key, a string value, a number's place, the timestamp.
    const variants: [string, RejectionReason][] = [
      [JSON.stringify(withFirst(validReading(kind), injection, 1)), 'unknown_field'],
      [JSON.stringify(withFirst(validReading(kind), numeric, injection)), 'wrong_type'],
      [JSON.stringify(withFirst(validReading(kind), 'ts', injection)), 'invalid_timestamp'],
    ];
    if (enumField) variants.push([JSON.stringify(withFirst(validReading(kind), enumField, injection)), 'out_of_range']);
    const [text, reason] = random.pick(variants);
    return telemetry('line_protocol_injection', text, one(reason));
  },
  big_arrays(random, { kind }) {
    const variants: (() => [string, Partial<Record<RejectionReason, number>>])[] = [
      () => [JSON.stringify(Array.from({ length: 10_000 }, () => 0)), one('batch_too_large')],
      () => [`[${Array.from({ length: MAX_BATCH_READINGS + 1 }, () => '{}').join(',')}]`, one('batch_too_large')],
      () => ['[]', one('empty_batch')],
      // The largest batch ingest reads, every reading of it bad: one rejection each.
      () => [`[${Array.from({ length: MAX_BATCH_READINGS }, () => '{}').join(',')}]`, { [emptyReadingReason(kind)]: MAX_BATCH_READINGS }],
      () => [JSON.stringify(withFirst(validReading(kind), random.pick(metricsOfKind(kind, 'float', 'integer')), Array.from({ length: 10_000 }, () => 1))), one('wrong_type')],
    ];
    const [text, rejections] = random.pick(variants)();
    return telemetry('big_arrays', text, rejections);
  },
  at_size_limit(random, { kind, atLimitPayloadBytes }) {
    // Exactly as large as the broker lets through, so that it reaches ingest; its content decides the reason.
    const padded = () => {
      const head = `{"padding":"`;
      const tail = `",${JSON.stringify(validReading(kind)).slice(1)}`;
      return `${head}${'x'.repeat(atLimitPayloadBytes - head.length - tail.length)}${tail}`;
    };
    const variants: (() => [string, RejectionReason])[] = [
      () => [padded(), 'unknown_field'],
      () => [`[${'0,'.repeat((atLimitPayloadBytes - 2) / 2)}`.padEnd(atLimitPayloadBytes, ' '), 'invalid_json'],
    ];
    const [text, reason] = random.pick(variants)();
    return telemetry('at_size_limit', text, one(reason));
  },
  forbidden_topics(random, { deviceId, otherDeviceId, now }) {
    const topic = random.pick([
      'devices/../telemetry',
      `devices/${deviceId}/../telemetry`,
      `devices/${deviceId}/telemetry/..`,
      `devices/${deviceId}/telemetry/`,
      `/devices/${deviceId}/telemetry`,
      'devices//telemetry',
      `devices/${otherDeviceId}/telemetry`,
      `devices/${deviceId}/commands`,
      `devices/${deviceId}/errors`,
      `devices/${deviceId}/status`,
      `devices/${otherDeviceId}/status`,
      `devices/${deviceId}/Telemetry`,
      `devices/${'x'.repeat(65)}/telemetry`,
      `devices/${deviceId}/${'t'.repeat(10_000)}`,
      `${'level/'.repeat(90)}telemetry`,
      `devices/${deviceId},zone=evil/telemetry`,
      `devices/${deviceId} x=1/telemetry`,
      `devices/${deviceId}/telemetry\u0000`,
      `devices/${deviceId}/telemetry\n`,
      '$SYS/broker/clients',
      'devices',
      `${deviceId}/telemetry`,
    ]);
    // A presence a device might forge, should a topic slip through.
    return { mode: 'topic', category: 'forbidden_topics', topic, payload: Buffer.from(JSON.stringify({ state: 'offline', ts: now })) };
  },
};

export const HOSTILE_CATEGORIES = Object.keys(GENERATORS);

/** The hostile message for this draw: categories in equal shares, the variant and its details from the seed. */
export function hostileMessage(random: SeededRandom, context: HostileContext): HostileMessage {
  const generate = GENERATORS[random.pick(HOSTILE_CATEGORIES)] as Generator;
  return generate(random, context);
}
