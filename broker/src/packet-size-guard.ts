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
export type GuardRejection = 'packet_too_large' | 'malformed_length' | 'truncated_packet' | 'slow_consumer';

export interface GuardLimits {
  maxPacketBytes: number;
  /** Bytes the broker may hold for a client that does not read; past them it waits, and cuts a client that stopped. */
  maxQueuedBytes: number;
  /** How long a client over `maxQueuedBytes` may go without taking a byte before it is cut. */
  stallMs: number;
}

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
 *
 * Writes complete at once while the client has less than `maxQueuedBytes` unread. aedes delivers a message
 * to every subscriber before it moves to the next, so a write held back for one client that stopped reading
 * would stall every client of the broker until aedes' drain timeout; absorbing a bounded backlog instead lets
 * the others flow, and over the bound a client that has taken nothing for `stallMs` is cut.
 */
export function guardConnection(socket: Socket, limits: GuardLimits, onRejected: (reason: GuardRejection) => void): Duplex {
  const guard = new PacketSizeGuard(limits.maxPacketBytes);
  let cut = false;
  let delivered = 0;
  let progressAt = Date.now();
  /** The stall clock runs from the moment the client went over the bound. */
  let overBound = false;
  const noteProgress = () => {
    // bytesWritten counts what is still queued in Node; what left for the kernel is what the client took.
    const now = socket.bytesWritten - socket.writableLength;
    if (now !== delivered) {
      delivered = now;
      progressAt = Date.now();
    }
    return Date.now() - progressAt;
  };
  const reject = (reason: GuardRejection) => {
    if (cut) return;
    cut = true;
    onRejected(reason);
    socket.destroy();
    duplex.destroy();
  };
  const duplex = new Duplex({
    // mqtt-packet writes a PUBLISH's topic as a string: it is encoded straight into the batch rather than into a Buffer of its own.
    decodeStrings: false,
    read() {
      socket.resume();
    },
    write(chunk: Buffer | string, _encoding, callback) {
      hold(chunk);
      afterWrite(callback);
    },
    // mqtt-packet corks the stream around each packet it writes in pieces (header, topic, payload), so they come here together.
    writev(chunks: { chunk: Buffer | string }[], callback) {
      for (const { chunk } of chunks) hold(chunk);
      afterWrite(callback);
    },
    final(callback) {
      flush();
      socket.end(callback);
    },
    destroy(error, callback) {
      // aedes destroys a refused client right after writing its CONNACK: what is batched must leave first.
      flush();
      socket.destroy();
      callback(error);
    },
  });
  /**
   * Holds what is written until the event loop's check phase, then hands it to the socket as one Buffer, sent with
   * one system call. aedes delivers each message from a callback of its own, so a consumer of a busy fan-in (ingest)
   * would otherwise cost a system call per message, and every piece of every packet a socket write of its own (a
   * PUBLISH is five or six): the socket's per-write bookkeeping and garbage were a large share of the broker's time.
   */
  let held: (Buffer | string)[] = [];
  let heldBytes = 0;
  const flush = () => {
    if (held.length === 0) return;
    const chunks = held;
    const bytes = heldBytes;
    held = [];
    heldBytes = 0;
    if (!socket.destroyed) socket.write(join(chunks, bytes));
  };
  function hold(chunk: Buffer | string): void {
    if (held.length === 0) setImmediate(flush);
    held.push(chunk);
    heldBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
  }
  /** Completes a write at once while the client has room; over the bound, once it drains, or cuts it if it stalled. */
  function afterWrite(callback: (error?: Error | null) => void): void {
    // Under the bound nothing is measured: bytesWritten walks the socket's whole buffer. Over it, the batch goes to
    // the socket at once, where the kernel takes what it can: only what it leaves counts, and only that makes a drain.
    if (socket.writableLength + heldBytes > limits.maxQueuedBytes) flush();
    if (socket.writableLength <= limits.maxQueuedBytes) {
      overBound = false;
      return callback();
    }
    if (!overBound) {
      overBound = true;
      delivered = socket.bytesWritten - socket.writableLength;
      progressAt = Date.now();
    }
    const stalledFor = noteProgress();
    if (stalledFor >= limits.stallMs) {
      reject('slow_consumer');
      return callback();
    }
    // One write waits at a time (the stream holds the next until this one's callback); a cut destroys it. The check
    // goes on until the drain: bytes that left a batch count as progress once, then the client may stall.
    let check: NodeJS.Timeout;
    const checkStall = (after: number) => {
      check = setTimeout(() => {
        if (socket.destroyed) return;
        const stalled = noteProgress();
        if (stalled >= limits.stallMs) reject('slow_consumer');
        else checkStall(limits.stallMs - stalled);
      }, after);
      check.unref();
    };
    checkStall(limits.stallMs - stalledFor);
    socket.once('drain', () => {
      clearTimeout(check);
      callback();
    });
  }
  socket.on('data', (chunk: Buffer) => {
    if (cut) return;
    const rejection = guard.accept(chunk);
    if (rejection) return reject(rejection);
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

/** The chunks of a batch as one Buffer, strings encoded as UTF-8 (`bytes` is their total length). */
function join(chunks: (Buffer | string)[], bytes: number): Buffer {
  if (chunks.length === 1 && typeof chunks[0] !== 'string') return chunks[0] as Buffer;
  const joined = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const chunk of chunks) at += typeof chunk === 'string' ? joined.write(chunk, at) : chunk.copy(joined, at);
  return joined;
}
