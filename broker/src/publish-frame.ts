/**
 * Reads the two kinds of packet a fan-in is made of: a device's MQTT 3.1.1 PUBLISH at QoS 1, not retained, on a
 * plain topic, and a consumer's PUBACK, each whole within the bytes at hand. Anything else (another packet, QoS 0 or 2, a retained message, a topic
 * with a wildcard, a `$` prefix, a byte outside printable ASCII, a frame cut short or inconsistent) is not read here:
 * the caller hands those bytes to aedes and mqtt-packet, which accept or reject them with their full rules.
 */
import { remainingLengthSize, writeRemainingLength } from '@city/platform';
import type { HeldFrame } from './packet-size-guard.js';

const PUBLISH = 3;
const QOS_MASK = 0x06;
const QOS_1 = 0x02;
const DUP = 0x08;
const RETAIN = 0x01;
const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;
const FIRST_PRINTABLE = 0x20;
const LAST_PRINTABLE = 0x7e;

const PUBACK_HEADER = 0x40;
const PUBACK_LENGTH = 2;

/** The packet identifier of the PUBACK that starts at `offset` (4 bytes), or undefined for anything else or a PUBACK cut short. */
export function readPubackFrame(bytes: Buffer, offset: number): number | undefined {
  if (bytes[offset] !== PUBACK_HEADER || bytes[offset + 1] !== PUBACK_LENGTH || offset + 4 > bytes.length) return undefined;
  return bytes.readUInt16BE(offset + 2);
}

export interface PublishFrame {
  topic: string;
  /** A view into the bytes read, not a copy. */
  payload: Buffer;
  dup: boolean;
  messageId: number;
  /** Where the next packet starts. */
  end: number;
}

/**
 * The PUBLISH that starts at `offset`, or undefined when the bytes there are anything the reader leaves to aedes.
 * `maxTopicLevels` is aedes' limit, so that a topic it would refuse is refused by it. `lastTopic`, the topic of the
 * connection's previous PUBLISH, is given back when this one's is the same: a device publishes to one topic, and its
 * messages then share one string instead of each keeping one of its own until the consumer acknowledges it.
 */
export function readPublishFrame(bytes: Buffer, offset: number, maxTopicLevels: number, lastTopic = ''): PublishFrame | undefined {
  const first = bytes[offset];
  if (first === undefined || first >> 4 !== PUBLISH || first & RETAIN || (first & QOS_MASK) !== QOS_1) return undefined;
  let at = offset + 1;
  let length = 0;
  let multiplier = 1;
  for (let lengthBytes = 0; ; lengthBytes++) {
    if (lengthBytes === 4 || at >= bytes.length) return undefined;
    const byte = bytes[at++] as number;
    length += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) break;
  }
  const end = at + length;
  if (end > bytes.length || length < 2) return undefined;
  const topicBytes = bytes.readUInt16BE(at);
  const topicStart = at + 2;
  const topicEnd = topicStart + topicBytes;
  const payloadStart = topicEnd + 2;
  if (topicBytes === 0 || payloadStart > end || bytes[topicStart] === DOLLAR) return undefined;
  let levels = 1;
  let same = lastTopic.length === topicBytes;
  for (let i = topicStart; i < topicEnd; i++) {
    const byte = bytes[i] as number;
    if (byte < FIRST_PRINTABLE || byte > LAST_PRINTABLE || byte === PLUS || byte === HASH) return undefined;
    if (byte === SLASH) levels++;
    if (same && lastTopic.charCodeAt(i - topicStart) !== byte) same = false;
  }
  if (levels > maxTopicLevels) return undefined;
  const messageId = bytes.readUInt16BE(topicEnd);
  if (messageId === 0) return undefined;
  return {
    topic: same ? lastTopic : bytes.toString('latin1', topicStart, topicEnd),
    payload: bytes.subarray(payloadStart, end),
    dup: (first & DUP) !== 0,
    messageId,
    end,
  };
}

/**
 * A QoS 1 PUBLISH to send, the bytes mqtt-packet writes for it (not retained; `dup` as given), encoded where the
 * connection's batch holds it (packet-size-guard.ts). `topicBytes` is the topic's UTF-8 length.
 */
export class PublishFrameWriter implements HeldFrame {
  readonly bytes: number;
  private readonly length: number;

  constructor(
    private readonly topic: string,
    private readonly topicBytes: number,
    private readonly payload: Buffer,
    private readonly messageId: number,
    private readonly dup: boolean,
  ) {
    this.length = 2 + topicBytes + 2 + payload.length;
    this.bytes = 1 + remainingLengthSize(this.length) + this.length;
  }

  writeTo(target: Buffer, at: number): void {
    target[at] = (PUBLISH << 4) | QOS_1 | (this.dup ? DUP : 0);
    let offset = target.writeUInt16BE(this.topicBytes, writeRemainingLength(target, at + 1, this.length));
    offset += target.write(this.topic, offset, this.topicBytes, 'utf8');
    offset = target.writeUInt16BE(this.messageId, offset);
    target.set(this.payload, offset);
  }
}
