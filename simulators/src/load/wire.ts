/**
 * The few MQTT 3.1.1 packets the load generator's and the bench's clients write, built by hand into buffers (what
 * comes back they read with @city/platform's PacketReader). The load must cost the client far less than it costs
 * the broker, or a load test measures the client: mqtt.js spends more CPU per message than either broker does.
 */
import { packetWithHeader } from '@city/platform';

/** A whole packet: its fixed header, then `body`. */
function packetOf(firstByte: number, body: Buffer): Buffer {
  const packet = packetWithHeader(firstByte, body.length);
  body.copy(packet, packet.length - body.length);
  return packet;
}

function utf8Field(text: string | Buffer): Buffer {
  const body = typeof text === 'string' ? Buffer.from(text) : text;
  const field = Buffer.alloc(2 + body.length);
  field.writeUInt16BE(body.length, 0);
  body.copy(field, 2);
  return field;
}

export function connectPacket(options: { clientId: string; username: string; password: string; clean: boolean; keepaliveS: number }): Buffer {
  const flags = 0x80 | 0x40 | (options.clean ? 0x02 : 0);
  const header = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, flags, options.keepaliveS >> 8, options.keepaliveS & 0xff]);
  const body = Buffer.concat([header, utf8Field(options.clientId), utf8Field(options.username), utf8Field(options.password)]);
  return packetOf(0x10, body);
}

export function subscribePacket(messageId: number, topic: string, qos: 0 | 1): Buffer {
  const body = Buffer.concat([Buffer.from([messageId >> 8, messageId & 0xff]), utf8Field(topic), Buffer.from([qos])]);
  return packetOf(0x82, body);
}

export const PINGREQ = Buffer.from([0xc0, 0]);

/** A PUBLISH to one topic with one payload; at QoS 1 each copy gets its packet identifier written in. */
export class PublishTemplate {
  private readonly bytes: Buffer;
  private readonly idOffset: number;

  constructor(topic: string, payload: Buffer, readonly qos: 0 | 1) {
    const topicField = utf8Field(topic);
    const bodyLength = topicField.length + (qos ? 2 : 0) + payload.length;
    this.bytes = packetOf(0x30 | (qos << 1), Buffer.concat([topicField, Buffer.alloc(qos ? 2 : 0), payload]));
    this.idOffset = this.bytes.length - bodyLength + topicField.length;
  }

  /** A fresh buffer: the socket may still hold the previous one. */
  packet(messageId: number): Buffer {
    if (this.qos === 0) return this.bytes;
    const copy = Buffer.allocUnsafe(this.bytes.length);
    this.bytes.copy(copy);
    copy.writeUInt16BE(messageId, this.idOffset);
    return copy;
  }
}

/** PUBLISHes to one topic, each with its own payload: the topic's bytes are encoded once. */
export class TopicPublisher {
  private readonly topicField: Buffer;

  constructor(topic: string) {
    this.topicField = utf8Field(topic);
  }

  packet(payload: string, qos: 0 | 1, messageId: number): Buffer {
    const bodyLength = this.topicField.length + (qos ? 2 : 0) + Buffer.byteLength(payload);
    const packet = packetWithHeader(0x30 | (qos << 1), bodyLength);
    const bodyAt = packet.length - bodyLength;
    let offset = bodyAt + this.topicField.copy(packet, bodyAt);
    if (qos) offset = packet.writeUInt16BE(messageId, offset);
    packet.write(payload, offset, 'utf8');
    return packet;
  }
}
