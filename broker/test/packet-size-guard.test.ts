import { describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { PacketSizeGuard } from '../src/packet-size-guard.js';

const publish = (bytes: number) =>
  mqttPacket.generate({ cmd: 'publish', topic: 'devices/a/telemetry', payload: Buffer.alloc(bytes, 0x41), qos: 0, retain: false, dup: false });

describe('PacketSizeGuard', () => {
  it('passes packets under the limit, however the stream is chunked', () => {
    const stream = Buffer.concat([publish(10), mqttPacket.generate({ cmd: 'pingreq' }), publish(60_000), publish(0)]);
    for (const chunkSize of [1, 2, 3, 7, 1000, stream.length]) {
      const guard = new PacketSizeGuard(65_536);
      for (let offset = 0; offset < stream.length; offset += chunkSize) {
        expect(guard.accept(stream.subarray(offset, offset + chunkSize))).toBeUndefined();
      }
      expect(guard.atBoundary).toBe(true);
    }
  });

  it('refuses a packet that announces more than the limit before its body arrives', () => {
    const guard = new PacketSizeGuard(65_536);
    const header = publish(70_000).subarray(0, 5);
    expect(guard.accept(header)).toBe('packet_too_large');
  });

  it('refuses a malformed length of more than four bytes', () => {
    const guard = new PacketSizeGuard(1 << 30);
    expect(guard.accept(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe('malformed_length');
  });

  it('knows when a stream stops in the middle of a packet', () => {
    const packet = publish(100);
    for (const cut of [1, 2, 50]) {
      const guard = new PacketSizeGuard(65_536);
      expect(guard.accept(packet.subarray(0, cut))).toBeUndefined();
      expect(guard.atBoundary).toBe(false);
    }
  });
});
