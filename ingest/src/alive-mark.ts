/**
 * When ingest was last receiving, kept on disk: after a crash it tells how long the broker has been
 * holding messages for it, which the clock rule needs (a late backlog is not a slow clock).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

/** Wide enough for any epoch millisecond time, so that each write covers the last one whole. */
const MARK_WIDTH = 16;

export class AliveMark {
  private timer: NodeJS.Timeout | undefined;
  private lastReceivedAt: (() => number | undefined) | undefined;
  private fd: number | undefined;

  constructor(
    private readonly file: string,
    private readonly intervalMs = 5000,
  ) {}

  /** The last time written by a previous run; undefined on a first start. */
  previous(): number | undefined {
    try {
      const at = Number(readFileSync(this.file, 'utf8'));
      return Number.isFinite(at) && at > 0 ? at : undefined;
    } catch {
      return undefined;
    }
  }

  start(lastReceivedAt: () => number | undefined): void {
    this.lastReceivedAt = lastReceivedAt;
    this.timer = setInterval(() => this.write(), this.intervalMs);
    this.timer.unref();
  }

  /** Writes the mark one last time: a clean stop knows exactly when it last received. */
  stop(): void {
    clearInterval(this.timer);
    this.write();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /**
   * Overwritten in place rather than truncated and written again: ext4 flushes a file rewritten that way when it
   * is closed, which held ingest's event loop for tens of milliseconds while InfluxDB was writing to the same disk.
   */
  private write(): void {
    const at = this.lastReceivedAt?.();
    if (at === undefined) return;
    this.fd ??= openSync(this.file, 'w');
    writeSync(this.fd, String(at).padEnd(MARK_WIDTH), 0);
  }
}
