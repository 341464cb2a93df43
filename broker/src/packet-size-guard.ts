/**
 * aedes (through mqtt-packet) buffers a whole packet before looking at it, so a client announcing a
 * 256 MB PUBLISH would make the broker allocate it. This wrapper reads only the MQTT fixed headers as
 * bytes stream past and cuts the connection as soon as a packet announces more than the limit. Since it
 * knows where packets end, it also tells a connection that stopped in the middle of one.
 */
import type { Socket } from 'node:net';
import type { InputGate } from './input-gate.js';
import type { LeanPublish } from './lean-publish.js';

type State = 'type' | 'length' | 'body';

const PUBLISH = 3;
const NOTHING = Buffer.alloc(0);
/** Batches of this size and up to the largest go through the connection's reusable buffer. */
const REUSED_BATCH_MIN_BYTES = 16 * 1024;
const REUSED_BATCH_MAX_BYTES = 1024 * 1024;

/**
 * A packet encoded straight into the connection's batch when it is sent, rather than into a Buffer of its own that
 * the batch then copies: what the broker writes per message (lean-delivery.ts) costs one Buffer and one copy less.
 */
export interface HeldFrame {
  readonly bytes: number;
  writeTo(target: Buffer, at: number): void;
}

/** The guarded socket, which also takes frames: `writeFrame` answers as `write` does. */
export type GuardedSocket = Socket & { writeFrame(frame: HeldFrame): boolean };

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
  /** Whether the last chunk accepted began a PUBLISH: only those add to the broker's message backlog. */
  publishing = false;

  constructor(private readonly maxPacketBytes: number) {}

  /** True while the stream stands between two packets: an end of stream elsewhere cut a packet short. */
  get atBoundary(): boolean {
    return this.state === 'type';
  }

  /** Returns why the stream must be cut, or undefined while every announced packet is acceptable. */
  accept(chunk: Buffer): Exclude<GuardRejection, 'truncated_packet'> | undefined {
    let offset = 0;
    this.publishing = false;
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
        if (byte >> 4 === PUBLISH) this.publishing = true;
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
 * Guards the socket itself, which aedes then reads and writes: a wrapper stream cost every read and every write a
 * second pass through Node's stream machinery, a large share of the broker's time under fan-in. Each chunk is checked
 * as the socket receives it, before it joins the socket's buffer and so before aedes can read it. `onRejected` is
 * called at most once per connection: when the guard cuts it, or when the client ends it mid-packet.
 *
 * Writes are taken at once while the client has less than `maxQueuedBytes` unread. aedes delivers a message to every
 * subscriber before it moves to the next, so a write held back for one client that stopped reading would stall every
 * client of the broker until aedes' drain timeout; absorbing a bounded backlog instead lets the others flow, and over
 * the bound a write says "wait for drain" and a client that has taken nothing for `stallMs` is cut.
 */
export function guardConnection(socket: Socket, limits: GuardLimits, onRejected: (reason: GuardRejection) => void, gate?: InputGate, lean?: LeanPublish): GuardedSocket {
  const guard = new PacketSizeGuard(limits.maxPacketBytes);
  const push = socket.push.bind(socket);
  const write = socket.write.bind(socket) as (chunk: Buffer, written?: () => void) => boolean;
  const destroy = socket.destroy.bind(socket);
  let cut = false;
  const reject = (reason: GuardRejection) => {
    if (cut) return;
    cut = true;
    onRejected(reason);
    destroy();
  };

  socket.push = (chunk: Buffer | null) => {
    if (chunk === null) {
      if (!cut && !guard.atBoundary) onRejected('truncated_packet');
      return push(null);
    }
    if (cut) return false;
    const aligned = guard.atBoundary;
    const rejection = guard.accept(chunk);
    if (rejection) {
      reject(rejection);
      return false;
    }
    // Acknowledgements go through: a consumer whose PUBACKs were held could stop reading, and its deliveries are what
    // brings the backlog down. Refusing the chunk stops the socket's reads until the gate opens.
    if (guard.publishing && gate?.closed) {
      gate.wait(() => resume(chunk, aligned));
      return false;
    }
    return deliver(chunk, aligned);
  };

  /**
   * Offers the chunk to the lean path, whose packets never enter the socket's buffer: only whole packets, and only
   * once aedes has read everything before them. What it leaves goes to aedes once the messages it took are stored,
   * so that they keep their order. False when the socket must stop reading for now.
   */
  const deliver = (chunk: Buffer, aligned: boolean): boolean => {
    let rest = chunk;
    if (lean && aligned && socket.readableLength === 0) {
      const taken = lean.take(socket, chunk);
      if (taken === chunk.length) return true;
      rest = taken === 0 ? chunk : chunk.subarray(taken);
    }
    if (lean?.afterStored(socket, () => resume(rest, aligned))) return false;
    return push(rest);
  };

  /** Delivers a chunk held back while the socket stopped reading; an empty push has it read again when nothing else did. */
  const resume = (chunk: Buffer, aligned: boolean) => {
    if (deliver(chunk, aligned)) push(NOTHING);
  };

  /**
   * Holds what is written until the event loop's check phase, then hands it to the socket as one Buffer, sent with
   * one system call. aedes delivers each message from a callback of its own, so a consumer of a busy fan-in (ingest)
   * would otherwise cost a system call per message, and every piece of every packet a socket write of its own (a
   * PUBLISH is five or six): the socket's per-write bookkeeping and garbage were a large share of the broker's time.
   */
  let held: (Buffer | string | HeldFrame)[] = [];
  let heldBytes = 0;
  /**
   * A consumer's batches are large and come every turn: one buffer serves them, taken again once the socket has
   * written it. A buffer of their own for each was most of the young buffers' bytes that make V8 collect its young
   * generation early ("external memory pressure"). A device's few acknowledgements are no such batch.
   */
  let reusable: Buffer | undefined;
  let reusableInUse = false;
  const released = () => {
    reusableInUse = false;
  };
  const flush = () => {
    if (held.length === 0) return;
    const chunks = held;
    const bytes = heldBytes;
    held = [];
    heldBytes = 0;
    if (!socket.writable) return;
    if (chunks.length === 1 && Buffer.isBuffer(chunks[0])) return void write(chunks[0]);
    if (bytes < REUSED_BATCH_MIN_BYTES || bytes > REUSED_BATCH_MAX_BYTES || reusableInUse) return void write(join(chunks, Buffer.allocUnsafe(bytes)));
    if (!reusable || reusable.length < bytes) reusable = Buffer.allocUnsafeSlow(Math.min(REUSED_BATCH_MAX_BYTES, Math.max(bytes, 2 * (reusable?.length ?? 0))));
    reusableInUse = true;
    write(join(chunks, reusable.subarray(0, bytes)), released);
  };
  const hold = (piece: Buffer | string | HeldFrame, bytes: number) => {
    if (socket.destroyed) return false;
    if (held.length === 0) holdUntilCheck(flush);
    held.push(piece);
    heldBytes += bytes;
    // Under the bound nothing is measured: bytesWritten walks the socket's whole buffer. Over it, the batch goes to
    // the socket at once, where the kernel takes what it can: only what it leaves counts.
    if (socket.writableLength + heldBytes <= limits.maxQueuedBytes) return true;
    flush();
    if (socket.writableLength <= limits.maxQueuedBytes) return true;
    watchStall();
    return false;
  };
  // mqtt-packet writes a PUBLISH's topic as a string: it is encoded straight into the batch rather than into a Buffer of its own.
  socket.write = (chunk: Buffer | string | Uint8Array) => {
    if (typeof chunk === 'string') return hold(chunk, Buffer.byteLength(chunk));
    return hold(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), chunk.byteLength);
  };
  const guarded = socket as GuardedSocket;
  guarded.writeFrame = (frame) => hold(frame, frame.bytes);
  // The batch already makes one write of a turn's packets; mqtt-packet's cork around each packet would only add a tick.
  (socket as { cork?: () => void }).cork = undefined;
  const end = socket.end.bind(socket) as (...args: unknown[]) => Socket;
  // The socket ends itself when the client does (no half-open connections): what is batched must leave first.
  socket.end = ((...args: unknown[]) => {
    flush();
    return end(...args);
  }) as Socket['end'];
  socket.destroy = (error?: Error) => {
    // aedes destroys a refused client right after writing its CONNACK: what is batched must leave first.
    flush();
    return destroy(error);
  };

  let stallCheck: NodeJS.Timeout | undefined;
  /** Over the bound, checks until the drain that the client keeps taking bytes: bytes that left count as progress once. */
  function watchStall(): void {
    if (stallCheck) return;
    // bytesWritten counts what is still queued in Node; what left for the kernel is what the client took.
    const delivered = () => socket.bytesWritten - socket.writableLength;
    let seen = delivered();
    let progressAt = Date.now();
    const check = (after: number) => {
      stallCheck = setTimeout(() => {
        if (socket.destroyed) return;
        const now = delivered();
        if (now !== seen) {
          seen = now;
          progressAt = Date.now();
        }
        const stalled = Date.now() - progressAt;
        if (stalled >= limits.stallMs) reject('slow_consumer');
        else check(limits.stallMs - stalled);
      }, after);
      stallCheck.unref();
    };
    check(limits.stallMs);
    socket.once('drain', () => {
      clearTimeout(stallCheck);
      stallCheck = undefined;
    });
  }
  return guarded;
}

/**
 * The batches to send at this turn's check phase, one callback for them all: under a fan-in hundreds of sockets hold
 * a PUBACK each per turn, and an Immediate of their own each was a good part of the time of sending them.
 */
let dueAtCheck: (() => void)[] = [];

function holdUntilCheck(flush: () => void): void {
  if (dueAtCheck.length === 0) setImmediate(flushHeld);
  dueAtCheck.push(flush);
}

function flushHeld(): void {
  const due = dueAtCheck;
  dueAtCheck = [];
  for (const flush of due) flush();
}

/** The chunks of a batch written into `joined`, exactly as long as they are: strings encoded as UTF-8, frames written in. */
function join(chunks: (Buffer | string | HeldFrame)[], joined: Buffer): Buffer {
  let at = 0;
  for (const chunk of chunks) {
    if (typeof chunk === 'string') at += joined.write(chunk, at);
    else if (Buffer.isBuffer(chunk)) {
      // A typed array's set, not Buffer's copy: the same bytes without copy's checks, once per packet piece.
      joined.set(chunk, at);
      at += chunk.length;
    } else {
      chunk.writeTo(joined, at);
      at += chunk.bytes;
    }
  }
  return joined;
}
