/**
 * Groups line-protocol lines into batches of at most `maxLines` or `maxDelayMs`, whichever comes first,
 * and acknowledges each message only once the batch holding it is durable. A batch that can be made
 * durable nowhere is retried with back-off, its messages unacknowledged, until it can.
 */
import type { Logger } from '@city/platform';
import { LineBuffer } from './line-body.js';

export interface BatcherOptions {
  maxLines: number;
  maxDelayMs: number;
  /** Batches being persisted at once; InfluxDB takes two concurrent writes noticeably faster than one. */
  maxInFlight: number;
  /**
   * `body`: the batch's lines, `\n`-separated UTF-8 (see line-body.ts). `oldestTs`: the oldest reading's timestamp
   * among them, so that what is written need not be read again to find it.
   */
  persist(body: Buffer, oldestTs: number): Promise<void>;
  logger: Logger;
  onPersisted?(batch: { lines: number; messages: number; durationMs: number }): void;
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** What a batch acknowledges once durable: a message (an object with a method, so that a message needs no closure). */
export interface Acknowledgeable {
  ack(): void;
}

interface Batch {
  lines: LineBuffer;
  acks: Acknowledgeable[];
  oldestTs: number;
}

/** A batch's buffer starts a little larger than the last batch's bytes (at least this), and grows if that is not enough. */
const MIN_BATCH_BYTES = 64 * 1024;

export class Batcher {
  private current: Batch;
  private ready: Batch[] = [];
  private inFlight = 0;
  private inFlightLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  /** Bumped by `discardPending`: a batch persisted under an older one stops retrying. */
  private epoch = 0;
  private failing = false;
  private lastBatchBytes = 0;

  constructor(private readonly options: BatcherOptions) {
    this.current = this.emptyBatch();
  }

  /** Lines that are queued or being persisted; a health figure. */
  get backlog(): number {
    return this.current.lines.count + this.ready.reduce((sum, batch) => sum + batch.lines.count, 0);
  }

  add(lines: readonly string[], message: Acknowledgeable, oldestTs: number): void {
    if (this.closed) return;
    // A message's lines stay in one batch, so that its acknowledgement waits for one write only.
    if (this.current.lines.count > 0 && this.current.lines.count + lines.length > this.options.maxLines) this.seal();
    for (const line of lines) this.current.lines.add(line);
    this.current.acks.push(message);
    if (oldestTs < this.current.oldestTs) this.current.oldestTs = oldestTs;
    if (this.current.lines.count >= this.options.maxLines) this.seal();
    else this.timer ??= setTimeout(() => this.seal(), this.options.maxDelayMs);
  }

  /** Persist everything queued so far and wait for it. */
  async flush(): Promise<void> {
    this.seal();
    if (this.inFlight === 0 && this.ready.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  /**
   * Forgets every batch not durable yet and returns how many lines that was. For after a reconnect to
   * a session the broker kept: it redelivers those messages, and holding the old copies too would grow
   * memory at every reconnect of a long outage. A batch being written now may still land; the
   * redelivered copy then overwrites the same points.
   */
  discardPending(): number {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.backlog + this.inFlightLines;
    this.current = this.emptyBatch();
    this.ready = [];
    this.epoch++;
    if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    return lines;
  }

  private seal(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.current.acks.length > 0) {
      this.lastBatchBytes = this.current.lines.size;
      // Sealed, so that a batch waiting in the queue holds no more memory than its lines.
      this.current.lines.body();
      this.ready.push(this.current);
      this.current = this.emptyBatch();
    }
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.ready.length > 0) {
      const batch = this.ready.shift() as Batch;
      this.inFlight++;
      this.inFlightLines += batch.lines.count;
      void this.persistWithRetry(batch).finally(() => {
        this.inFlight--;
        this.inFlightLines -= batch.lines.count;
        this.pump();
        if (this.inFlight === 0 && this.ready.length === 0) {
          for (const resolve of this.idleWaiters.splice(0)) resolve();
        }
      });
    }
  }

  private async persistWithRetry(batch: Batch): Promise<void> {
    const minDelay = this.options.retryMinMs ?? 200;
    const maxDelay = this.options.retryMaxMs ?? 5000;
    const epoch = this.epoch;
    const lines = batch.lines.count;
    const body = batch.lines.body();
    for (let attempt = 0; epoch === this.epoch; attempt++) {
      const started = performance.now();
      try {
        if (lines > 0) await this.options.persist(body, batch.oldestTs);
        this.options.onPersisted?.({ lines, messages: batch.acks.length, durationMs: performance.now() - started });
        for (const message of batch.acks) message.ack();
        if (this.failing) this.options.logger.info('batches are durable again; acknowledging');
        this.failing = false;
        return;
      } catch (error) {
        const delay = Math.min(maxDelay, minDelay * 2 ** attempt);
        // Once per episode: with thousands of batches waiting, one line each would bury the cause.
        if (!this.failing) {
          this.options.logger.error({ err: (error as Error).message, lines, retryInMs: delay }, 'batches are not durable yet; holding their acknowledgements');
        }
        this.failing = true;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private emptyBatch(): Batch {
    return { lines: new LineBuffer(Math.max(MIN_BATCH_BYTES, Math.ceil(this.lastBatchBytes * 1.25))), acks: [], oldestTs: Number.POSITIVE_INFINITY };
  }
}
