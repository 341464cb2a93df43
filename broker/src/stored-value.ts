/**
 * How the durable store writes a packet (or a list of subscriptions) into a log record: the payload as raw bytes,
 * everything else as JSON. JSON alone would spell a Buffer payload as an array of numbers, several times its size
 * and the slowest part of encoding a reading.
 */
const NO_PAYLOAD = 0;
const BUFFER_PAYLOAD = 1;
const STRING_PAYLOAD = 2;
const HEADER_BYTES = 5;

export function encodeValue(value: object): Buffer {
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
