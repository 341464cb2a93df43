import { describe, expect, it } from 'vitest';
import { MAX_REMAINING_LENGTH, MalformedPacketError, PACKET, PacketReader, decodePublish, packetWithHeader, remainingLengthSize, writeRemainingLength } from '../src/mqtt-frames.js';

const TOPIC = 'devices/d-1/telemetry';
const PINGRESP = Buffer.from([0xd0, 0]);

/** A PUBLISH as MQTT 3.1.1 frames it, written out long-hand so that the test does not share the reader's arithmetic. */
function publish(messageId: number, payload: string, qos: 0 | 1 = 1): Buffer {
  const body = Buffer.concat([Buffer.from([0, TOPIC.length]), Buffer.from(TOPIC), qos ? Buffer.from([messageId >> 8, messageId & 0xff]) : Buffer.alloc(0), Buffer.from(payload)]);
  const length: number[] = [];
  for (let rest = body.length; ; ) {
    const byte = rest % 128;
    rest = Math.floor(rest / 128);
    length.push(rest > 0 ? byte | 0x80 : byte);
    if (rest === 0) break;
  }
  return Buffer.concat([Buffer.from([0x30 | (qos << 1), ...length]), body]);
}

describe('reading MQTT packets by hand', () => {
  it('splits a stream into packets wherever its chunks break, a multi-byte remaining length included', () => {
    const large = 'x'.repeat(20_000);
    const stream = Buffer.concat([publish(1, '{"a":1}'), PINGRESP, publish(2, large), publish(3, '{}', 0)]);
    for (const size of [1, 3, 7, 4096, stream.length]) {
      const seen: { type: number; topic?: string; messageId?: number; payload?: string }[] = [];
      const reader = new PacketReader((type, body, flags) => {
        if (type !== PACKET.publish) return seen.push({ type });
        const { topic, messageId, payload } = decodePublish(body, flags);
        // The payload is a view into the read: what is kept is copied, as a caller must.
        return seen.push({ type, topic, ...(messageId !== undefined && { messageId }), payload: payload.toString() });
      });
      for (let offset = 0; offset < stream.length; offset += size) reader.push(stream.subarray(offset, offset + size));
      expect(seen).toEqual([
        { type: PACKET.publish, topic: TOPIC, messageId: 1, payload: '{"a":1}' },
        { type: PACKET.pingresp },
        { type: PACKET.publish, topic: TOPIC, messageId: 2, payload: large },
        { type: PACKET.publish, topic: TOPIC, payload: '{}' },
      ]);
    }
  });

  it('refuses what cannot be followed: a remaining length past four bytes, a PUBLISH shorter than its own header', () => {
    const reader = new PacketReader(() => undefined);
    expect(() => reader.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(MalformedPacketError);
    expect(() => decodePublish(Buffer.from([0, 30, 0x61]), 0x02)).toThrow(MalformedPacketError);
    expect(() => decodePublish(Buffer.from([0]), 0)).toThrow(MalformedPacketError);
  });

  it('writes a remaining length in as few bytes as MQTT allows, at each boundary, and refuses one past the largest', () => {
    const cases: [number, number[]][] = [
      [0, [0x00]],
      [127, [0x7f]],
      [128, [0x80, 0x01]],
      [16_383, [0xff, 0x7f]],
      [16_384, [0x80, 0x80, 0x01]],
      [2_097_151, [0xff, 0xff, 0x7f]],
      [2_097_152, [0x80, 0x80, 0x80, 0x01]],
      [MAX_REMAINING_LENGTH, [0xff, 0xff, 0xff, 0x7f]],
    ];
    for (const [length, expected] of cases) {
      const target = Buffer.alloc(6, 0xee);
      expect(writeRemainingLength(target, 1, length)).toBe(1 + expected.length);
      expect([...target.subarray(1, 1 + expected.length)]).toEqual(expected);
      expect(remainingLengthSize(length)).toBe(expected.length);
    }
    expect(() => remainingLengthSize(MAX_REMAINING_LENGTH + 1)).toThrow(RangeError);
  });

  it('reads back the packets it frames, whatever their length', () => {
    const seen: { type: number; length: number; flags: number }[] = [];
    const reader = new PacketReader((type, body, flags) => seen.push({ type, length: body.length, flags }));
    const lengths = [0, 127, 128, 20_000];
    for (const length of lengths) {
      const packet = packetWithHeader(0x32, length);
      reader.push(packet.fill(0x61, packet.length - length));
    }
    expect(seen).toEqual(lengths.map((length) => ({ type: PACKET.publish, length, flags: 0x02 })));
  });
});
