import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { waitFor } from '@city/platform';
import { guardConnection, PacketSizeGuard, type GuardRejection } from '../src/packet-size-guard.js';
import { PublishFrameWriter } from '../src/publish-frame.js';

/** The topic is not ASCII: mqtt-packet writes it as a string, which the connection encodes into its batch. */
const TOPIC = 'devices/cảm-biến-đường/telemetry';
const publish = (bytes: number) => mqttPacket.generate({ cmd: 'publish', topic: TOPIC, payload: Buffer.alloc(bytes, 0x41), qos: 0, retain: false, dup: false });

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

  it('tells a chunk that begins a PUBLISH from one of acknowledgements only', () => {
    const guard = new PacketSizeGuard(65_536);
    guard.accept(Buffer.concat([mqttPacket.generate({ cmd: 'puback', messageId: 7 }), mqttPacket.generate({ cmd: 'pingreq' })]));
    expect(guard.publishing).toBe(false);
    const packet = publish(100);
    guard.accept(packet.subarray(0, 50));
    expect(guard.publishing).toBe(true);
    // The rest of that PUBLISH's body begins nothing.
    guard.accept(packet.subarray(50));
    expect(guard.publishing).toBe(false);
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

/** A connected pair on a random port: the guarded server side, and the client side the test reads or not. */
async function socketPair(): Promise<{ server: Socket; client: Socket; close(): void }> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const client = connect((listener.address() as AddressInfo).port, '127.0.0.1');
  const server = await accepted;
  const close = () => {
    client.destroy();
    server.destroy();
    listener.close();
  };
  return { server, client, close };
}

describe('guardConnection towards a client that does not read', () => {
  const limits = { maxPacketBytes: 65_536, maxQueuedBytes: 256 * 1024, stallMs: 300 };
  const chunk = Buffer.alloc(16 * 1024, 0x41);

  it('takes writes at once up to the bound, then cuts the client as slow_consumer', async () => {
    const { server, client, close } = await socketPair();
    client.pause();
    const rejections: GuardRejection[] = [];
    const connection = guardConnection(server, limits, (reason) => rejections.push(reason));
    connection.on('error', () => undefined);
    let written = 0;
    const writeMore = () => {
      while (!connection.destroyed && connection.write(chunk)) written += chunk.length;
    };
    writeMore();
    connection.on('drain', writeMore);
    await waitFor('the slow client cut', () => rejections.length > 0, 10_000);
    expect(rejections).toEqual(['slow_consumer']);
    // Never more held than the bound, a chunk, and what the kernel took before the client stopped.
    expect(server.writableLength).toBeLessThanOrEqual(limits.maxQueuedBytes + chunk.length);
    expect(written).toBeGreaterThan(limits.maxQueuedBytes);
    close();
  });

  it('does not cut a client that is behind but reading', async () => {
    const { server, client, close } = await socketPair();
    const rejections: GuardRejection[] = [];
    const connection = guardConnection(server, limits, (reason) => rejections.push(reason));
    let received = 0;
    client.on('data', (data: Buffer) => {
      received += data.length;
    });
    const total = 8 * 1024 * 1024;
    for (let sent = 0; sent < total; sent += chunk.length) {
      if (!connection.write(chunk)) await new Promise((resolve) => connection.once('drain', resolve));
    }
    await waitFor('everything received', () => received === total, 20_000);
    expect(rejections).toEqual([]);
    close();
  });
});

describe('guardConnection writing packets in pieces', () => {
  it('sends what was written in one turn of the event loop, packets in pieces included, as one batch, every byte in order', async () => {
    const { server, client, close } = await socketPair();
    const connection = guardConnection(server, { maxPacketBytes: 65_536, maxQueuedBytes: 1024 * 1024, stallMs: 1000 }, () => undefined);
    const batches: number[] = [];
    const socketWrites = server as unknown as { _writev(chunks: unknown[], callback: () => void): void; _write(chunk: unknown, encoding: string, callback: () => void): void };
    const writev = socketWrites._writev.bind(server);
    const write = socketWrites._write.bind(server);
    socketWrites._writev = (chunks, callback) => {
      batches.push(chunks.length);
      writev(chunks, callback);
    };
    socketWrites._write = (chunk, encoding, callback) => {
      batches.push(1);
      write(chunk, encoding, callback);
    };
    let received = Buffer.alloc(0);
    client.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
    });
    const sizes = [10, 200, 3000];
    // aedes writes each delivery from a callback of its own, as here.
    for (const bytes of sizes) {
      setImmediate(() =>
        mqttPacket.writeToStream({ cmd: 'publish', topic: TOPIC, payload: Buffer.alloc(bytes, 0x41), qos: 0, retain: false, dup: false }, connection),
      );
    }
    const expected = Buffer.concat(sizes.map(publish));
    await waitFor('every packet received', () => received.length === expected.length, 5000);
    expect(received.equals(expected)).toBe(true);
    // Without the batching, each packet, and each piece of one, would reach the socket as a write of its own.
    expect(batches).toHaveLength(1);
    close();
  });

  it('writes the frames it is given in their place among the other writes, as mqtt-packet would write them', async () => {
    const { server, client, close } = await socketPair();
    const connection = guardConnection(server, { maxPacketBytes: 65_536, maxQueuedBytes: 1024 * 1024, stallMs: 1000 }, () => undefined);
    let received = Buffer.alloc(0);
    client.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
    });
    const qos1 = (bytes: number, messageId: number, dup: boolean) =>
      mqttPacket.generate({ cmd: 'publish', topic: TOPIC, payload: Buffer.alloc(bytes, 0x42), qos: 1, messageId, retain: false, dup });
    // Payload sizes across the one-, two- and three-byte remaining lengths.
    const frames = [
      { bytes: 5, messageId: 1, dup: false },
      { bytes: 200, messageId: 65_535, dup: true },
      { bytes: 20_000, messageId: 300, dup: false },
    ];
    const topicBytes = Buffer.byteLength(TOPIC);
    for (const frame of frames) {
      mqttPacket.writeToStream({ cmd: 'publish', topic: TOPIC, payload: Buffer.alloc(10, 0x41), qos: 0, retain: false, dup: false }, connection);
      expect(connection.writeFrame(new PublishFrameWriter(TOPIC, topicBytes, Buffer.alloc(frame.bytes, 0x42), frame.messageId, frame.dup))).toBe(true);
    }
    const expected = Buffer.concat(frames.flatMap((frame) => [publish(10), qos1(frame.bytes, frame.messageId, frame.dup)]));
    await waitFor('every packet received', () => received.length >= expected.length, 5000);
    expect(received.equals(expected)).toBe(true);
    close();
  });
});
