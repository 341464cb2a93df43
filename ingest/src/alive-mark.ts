/**
 * When ingest was last receiving, kept on disk: after a crash it tells how long the broker has been
 * holding messages for it, which the clock rule needs (a late backlog is not a slow clock).
 */
import { readFileSync, writeFileSync } from 'node:fs';

export class AliveMark {
  private timer: NodeJS.Timeout | undefined;
  private lastReceivedAt: (() => number | undefined) | undefined;

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
  }

  private write(): void {
    const at = this.lastReceivedAt?.();
    if (at !== undefined) writeFileSync(this.file, String(at));
  }
}
