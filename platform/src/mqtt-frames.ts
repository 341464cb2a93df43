/**
 * Reading MQTT 3.1.1 off a socket by hand: a reader that splits the byte stream into packets, and the decoding
 * of a PUBLISH. For the clients whose every message counts (ingest's session, the load generator, the bench's
 * clients): a general client library allocates a parser state, a buffer list and a packet object per message,
 * which cost ingest more than validating the reading did.
 */
export const PACKET = { connack: 2, publish: 3, puback: 4, suback: 9, pingresp: 13 } as const;

export class MalformedPacketError extends Error {
  override name = 'MalformedPacketError';
}

/** Splits a byte stream into packets and hands each one's type, body (the bytes after the fixed header) and header flags on. */
export class PacketReader {
  private pending: Buffer | undefined;

  constructor(private readonly onPacket: (type: number, body: Buffer, flags: number) => void) {}

  /** Throws a MalformedPacketError for a remaining length longer than MQTT's four bytes: the stream cannot be followed past it. */
  push(chunk: Buffer): void {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let offset = 0;
    for (;;) {
      if (data.length - offset < 2) break;
      let length = 0;
      let multiplier = 1;
      let cursor = offset + 1;
      let complete = false;
      while (cursor < data.length) {
        if (cursor - offset > 4) throw new MalformedPacketError('a remaining length longer than four bytes');
        const byte = data[cursor++] as number;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || data.length - cursor < length) break;
      this.onPacket((data[offset] as number) >> 4, data.subarray(cursor, cursor + length), (data[offset] as number) & 0x0f);
      offset = cursor + length;
    }
    if (offset < data.length) this.pending = Buffer.from(data.subarray(offset));
  }
}

export interface PublishFrame {
  topic: string;
  qos: number;
  /** Present at QoS 1 and 2. */
  messageId: number | undefined;
  /** A view into the read buffer: copy it to keep it past the call. */
  payload: Buffer;
}

/** MQTT's largest remaining length, the most its four-byte encoding holds. */
export const MAX_REMAINING_LENGTH = 268_435_455;

/** How many bytes (1 to 4) MQTT's variable-length encoding of a packet's remaining length takes. */
export function remainingLengthSize(length: number): number {
  if (length < 0 || length > MAX_REMAINING_LENGTH) throw new RangeError(`a remaining length must be within 0..${MAX_REMAINING_LENGTH}, not ${length}`);
  return length < 128 ? 1 : length < 16_384 ? 2 : length < 2_097_152 ? 3 : 4;
}

/** Writes a packet's remaining length at `offset`, seven bits a byte, low bits first; returns where the next byte goes. */
export function writeRemainingLength(target: Buffer, offset: number, length: number): number {
  let rest = length;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>>= 7;
    if (rest === 0) {
      target[offset++] = byte;
      return offset;
    }
    target[offset++] = byte | 0x80;
  }
}

/** A packet's fixed header (its first byte, then the remaining length) in a buffer whose last `length` bytes are left for the body. */
export function packetWithHeader(firstByte: number, length: number): Buffer {
  const packet = Buffer.allocUnsafe(1 + remainingLengthSize(length) + length);
  packet[0] = firstByte;
  writeRemainingLength(packet, 1, length);
  return packet;
}

/** A PUBACK is four bytes: its fixed header, a remaining length of 2 and the packet identifier. */
export const PUBACK_BYTES = 4;

/** Writes the PUBACK of `messageId` at `offset`: ingest writes a batch's PUBACKs into one buffer. */
export function writePuback(target: Buffer, offset: number, messageId: number): void {
  target[offset] = PACKET.puback << 4;
  target[offset + 1] = 2;
  target.writeUInt16BE(messageId, offset + 2);
}

export function pubackPacket(messageId: number): Buffer {
  const packet = Buffer.allocUnsafe(PUBACK_BYTES);
  writePuback(packet, 0, messageId);
  return packet;
}

/** A PUBLISH's body, as PacketReader hands it on with its flags. */
export function decodePublish(body: Buffer, flags: number): PublishFrame {
  if (body.length < 2) throw new MalformedPacketError('a PUBLISH too short for its topic length');
  const qos = (flags >> 1) & 3;
  const topicEnd = 2 + body.readUInt16BE(0);
  const payloadStart = qos > 0 ? topicEnd + 2 : topicEnd;
  if (payloadStart > body.length) throw new MalformedPacketError('a PUBLISH shorter than its topic and packet identifier');
  return { topic: body.toString('utf8', 2, topicEnd), qos, messageId: qos > 0 ? body.readUInt16BE(topicEnd) : undefined, payload: body.subarray(payloadStart) };
}
