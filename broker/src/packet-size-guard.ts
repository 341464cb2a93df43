/**
 * aedes (through mqtt-packet) buffers a whole packet before looking at it, so a client announcing a
 * 256 MB PUBLISH would make the broker allocate it. This wrapper reads only the MQTT fixed headers as
 * bytes stream past and cuts the connection as soon as a packet announces more than the limit.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

type State = 'type' | 'length' | 'body';

export class PacketSizeGuard {
  private state: State = 'type';
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Returns false once the stream has announced an oversized or malformed packet. */
  accept(chunk: Buffer): boolean {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.state === 'body') {
        const skip = Math.min(this.remaining, chunk.length - offset);
        offset += skip;
        this.remaining -= skip;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[offset++] as number;
      if (this.state === 'type') {
        this.state = 'length';
        this.remaining = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.remaining += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (this.remaining > this.maxPacketBytes) return false;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return false;
        continue;
      }
      this.state = this.remaining === 0 ? 'type' : 'body';
    }
    return true;
  }
}

/** A duplex over the socket that forwards bytes unchanged while the guard accepts them. */
export function guardConnection(socket: Socket, maxPacketBytes: number, onOversized: () => void): Duplex {
  const guard = new PacketSizeGuard(maxPacketBytes);
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (socket.write(chunk)) callback();
      else socket.once('drain', () => callback());
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (!guard.accept(chunk)) {
      onOversized();
      socket.destroy();
      duplex.destroy();
      return;
    }
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.once('end', () => duplex.push(null));
  socket.once('close', () => duplex.destroy());
  socket.on('error', (error) => duplex.destroy(error));
  return duplex;
}
