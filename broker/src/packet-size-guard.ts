/**
 * aedes (through mqtt-packet) buffers a whole packet before looking at it, so a client announcing a
 * 256 MB PUBLISH would make the broker allocate it. This wrapper reads only the MQTT fixed headers as
 * bytes stream past and cuts the connection as soon as a packet announces more than the limit. Since it
 * knows where packets end, it also tells a connection that stopped in the middle of one.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

type State = 'type' | 'length' | 'body';

/** Why the guard cut or saw the end of a connection: counted as the broker's rejection reasons. */
export type GuardRejection = 'packet_too_large' | 'malformed_length' | 'truncated_packet';

export class PacketSizeGuard {
  private state: State = 'type';
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** True while the stream stands between two packets: an end of stream elsewhere cut a packet short. */
  get atBoundary(): boolean {
    return this.state === 'type';
  }

  /** Returns why the stream must be cut, or undefined while every announced packet is acceptable. */
  accept(chunk: Buffer): Exclude<GuardRejection, 'truncated_packet'> | undefined {
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
      if (this.remaining > this.maxPacketBytes) return 'packet_too_large';
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return 'malformed_length';
        continue;
      }
      this.state = this.remaining === 0 ? 'type' : 'body';
    }
    return undefined;
  }
}

/**
 * A duplex over the socket that forwards bytes unchanged while the guard accepts them. `onRejected` is
 * called at most once per connection: when the guard cuts it, or when the client ends it mid-packet.
 */
export function guardConnection(socket: Socket, maxPacketBytes: number, onRejected: (reason: GuardRejection) => void): Duplex {
  const guard = new PacketSizeGuard(maxPacketBytes);
  let cut = false;
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
    if (cut) return;
    const rejection = guard.accept(chunk);
    if (rejection) {
      cut = true;
      onRejected(rejection);
      socket.destroy();
      duplex.destroy();
      return;
    }
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.once('end', () => {
    if (!cut && !guard.atBoundary) onRejected('truncated_packet');
    duplex.push(null);
  });
  socket.once('close', () => duplex.destroy());
  socket.on('error', (error) => duplex.destroy(error));
  return duplex;
}
