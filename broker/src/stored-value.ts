/**
 * How the durable store writes a packet (or a list of subscriptions) into a log record: the payload as raw bytes,
 * everything else as JSON. JSON alone would spell a Buffer payload as an array of numbers, several times its size
 * and the slowest part of encoding a reading. A PUBLISH with no more than aedes gives every packet it copies (what
 * a QoS 1 reading queued for ingest is) is written in a fixed binary layout instead: every message that goes
 * through the broker is written once, and JSON's string, the object spread around it and their garbage were most
 * of the cost of writing it.
 */
import { setRecord, setRecordWith, writeBufferValue, type CommitWaiter, type WriteAheadLog } from './write-ahead-log.js';

const NO_PAYLOAD = 0;
const BUFFER_PAYLOAD = 1;
const STRING_PAYLOAD = 2;
const PLAIN_PUBLISH = 3;
const HEADER_BYTES = 5;

/** A plain PUBLISH: [kind][flags: qos, retain, dup, has id][messageId u16][brokerCounter f64][brokerId bytes u16][topic bytes u16][brokerId][topic][payload]. */
const PLAIN_HEADER_BYTES = 16;
const PLAIN_FIELDS = new Set(['cmd', 'brokerId', 'brokerCounter', 'topic', 'payload', 'qos', 'retain', 'dup', 'messageId']);
const MAX_U16 = 0xffff;

interface PlainPublish {
  cmd: 'publish';
  brokerId: string;
  brokerCounter: number;
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  dup: boolean;
  messageId?: number;
}

/** The log's set record of `value` under `key`; a plain PUBLISH, written for every message queued, is encoded straight into it. */
export function valueRecord(key: string, value: object): Buffer {
  return isPlainPublish(value) ? setRecordWith(key, value, plainPublishBytes(value), writePlainPublish) : setRecord(key, encodeWithJson(value));
}

/** Appends the set record of `value` under `key` to the log, framed in place; `waiter`, if any, is told once it is on the disk. */
export function appendValue(log: WriteAheadLog, key: string, value: object, waiter?: CommitWaiter): void {
  if (isPlainPublish(value)) log.appendSet(key, value, plainPublishBytes(value), writePlainPublish, waiter);
  else {
    const encoded = encodeWithJson(value);
    log.appendSet(key, encoded, encoded.length, writeBufferValue, waiter);
  }
}

function encodeWithJson(value: object): Buffer {
  const payload = (value as { payload?: unknown }).payload;
  const kind = Buffer.isBuffer(payload) ? BUFFER_PAYLOAD : typeof payload === 'string' ? STRING_PAYLOAD : NO_PAYLOAD;
  const payloadBytes = kind === BUFFER_PAYLOAD ? (payload as Buffer) : kind === STRING_PAYLOAD ? Buffer.from(payload as string) : undefined;
  const json = JSON.stringify(kind === NO_PAYLOAD ? value : { ...value, payload: undefined });
  const jsonBytes = Buffer.byteLength(json);
  const encoded = Buffer.allocUnsafe(HEADER_BYTES + (payloadBytes?.length ?? 0) + jsonBytes);
  encoded[0] = kind;
  encoded.writeUInt32LE(payloadBytes?.length ?? 0, 1);
  payloadBytes?.copy(encoded, HEADER_BYTES);
  encoded.write(json, HEADER_BYTES + (payloadBytes?.length ?? 0), 'utf8');
  return encoded;
}

export function decodeValue<T>(encoded: Buffer): T {
  const kind = encoded[0];
  if (kind === PLAIN_PUBLISH) return decodePlainPublish(encoded) as T;
  const payloadEnd = HEADER_BYTES + encoded.readUInt32LE(1);
  const value = JSON.parse(encoded.toString('utf8', payloadEnd), reviveBuffers) as Record<string, unknown>;
  if (kind === BUFFER_PAYLOAD) value.payload = Buffer.from(encoded.subarray(HEADER_BYTES, payloadEnd));
  else if (kind === STRING_PAYLOAD) value.payload = encoded.toString('utf8', HEADER_BYTES, payloadEnd);
  return value as T;
}

/** Buffers other than the payload (MQTT 5 properties such as correlation data) come back as Buffers. */
function reviveBuffers(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data);
  }
  return value;
}

/** Only the fields named in PLAIN_FIELDS, each of the type the layout holds: anything else goes as JSON, losing nothing. */
function isPlainPublish(value: object): value is PlainPublish {
  for (const key in value) if (!PLAIN_FIELDS.has(key)) return false;
  const packet = value as Partial<Record<keyof PlainPublish, unknown>>;
  const { messageId, qos } = packet;
  return (
    packet.cmd === 'publish' &&
    typeof packet.brokerId === 'string' &&
    fitsU16(packet.brokerId) &&
    typeof packet.brokerCounter === 'number' &&
    typeof packet.topic === 'string' &&
    fitsU16(packet.topic) &&
    Buffer.isBuffer(packet.payload) &&
    (qos === 0 || qos === 1 || qos === 2) &&
    typeof packet.retain === 'boolean' &&
    typeof packet.dup === 'boolean' &&
    (messageId === undefined || (Number.isInteger(messageId) && (messageId as number) >= 0 && (messageId as number) <= MAX_U16))
  );
}

/** Whether the string's UTF-8 length surely fits the layout's u16 (a UTF-16 unit is at most three bytes of UTF-8). */
function fitsU16(text: string): boolean {
  return text.length * 3 <= MAX_U16;
}

function plainPublishBytes(packet: PlainPublish): number {
  return PLAIN_HEADER_BYTES + Buffer.byteLength(packet.brokerId) + Buffer.byteLength(packet.topic) + packet.payload.length;
}

/** Writes the layout at `at`, into room of plainPublishBytes(packet). */
function writePlainPublish(packet: PlainPublish, target: Buffer, at: number): void {
  target[at] = PLAIN_PUBLISH;
  target[at + 1] = packet.qos | (packet.retain ? 4 : 0) | (packet.dup ? 8 : 0) | (packet.messageId === undefined ? 0 : 16);
  target.writeUInt16LE(packet.messageId ?? 0, at + 2);
  target.writeDoubleLE(packet.brokerCounter, at + 4);
  const brokerIdBytes = target.write(packet.brokerId, at + PLAIN_HEADER_BYTES, 'utf8');
  const topicBytes = target.write(packet.topic, at + PLAIN_HEADER_BYTES + brokerIdBytes, 'utf8');
  target.writeUInt16LE(brokerIdBytes, at + 12);
  target.writeUInt16LE(topicBytes, at + 14);
  packet.payload.copy(target, at + PLAIN_HEADER_BYTES + brokerIdBytes + topicBytes);
}

function decodePlainPublish(encoded: Buffer): PlainPublish {
  const flags = encoded[1] as number;
  const topicAt = PLAIN_HEADER_BYTES + encoded.readUInt16LE(12);
  const payloadAt = topicAt + encoded.readUInt16LE(14);
  const packet: PlainPublish = {
    cmd: 'publish',
    brokerId: encoded.toString('utf8', PLAIN_HEADER_BYTES, topicAt),
    brokerCounter: encoded.readDoubleLE(4),
    topic: encoded.toString('utf8', topicAt, payloadAt),
    payload: Buffer.from(encoded.subarray(payloadAt)),
    qos: flags & 3,
    retain: (flags & 4) !== 0,
    dup: (flags & 8) !== 0,
  };
  if (flags & 16) packet.messageId = encoded.readUInt16LE(2);
  return packet;
}
