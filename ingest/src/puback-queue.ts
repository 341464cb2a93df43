/**
 * One connection's PUBACKs, written together: a batch made durable acknowledges thousands of messages in one
 * go, and one write of them all costs ingest one system call, and the broker one read, instead of one each.
 * They go out once the code acknowledging them has run to its end (a microtask), so none waits for a timer.
 */
import type { Socket } from 'node:net';
import { PUBACK_BYTES, writePuback } from '@city/platform';

export class PubackQueue {
  private ids: number[] = [];

  constructor(private readonly socket: Socket) {}

  /** False once the connection has gone: the broker redelivers what was not acknowledged on it. */
  get usable(): boolean {
    return !this.socket.destroyed;
  }

  add(messageId: number): void {
    if (this.ids.push(messageId) === 1) queueMicrotask(this.flush);
  }

  private readonly flush = (): void => {
    const ids = this.ids;
    this.ids = [];
    if (this.socket.destroyed) return;
    const packets = Buffer.allocUnsafe(ids.length * PUBACK_BYTES);
    for (let i = 0; i < ids.length; i++) writePuback(packets, i * PUBACK_BYTES, ids[i] as number);
    this.socket.write(packets);
  };
}
