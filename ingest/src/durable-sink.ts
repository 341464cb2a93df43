/**
 * Makes a batch durable: into InfluxDB when it answers, otherwise into the spool, which a background
 * loop replays once InfluxDB is back. While InfluxDB is known to be down, batches go straight to the
 * spool instead of each waiting for a timeout. A batch InfluxDB refuses as malformed is set aside in
 * a dead-letter file for an operator rather than retried forever or thrown away. A full spool is
 * reported once per episode: the batcher keeps retrying, with the messages unacknowledged.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@city/platform';
import { appendDurably } from './durable-files.js';
import { PermanentWriteError, TransientWriteError, type InfluxWriter } from './influx-writer.js';
import { bodyOf, linesOf, type LineBatch } from './line-body.js';
import type { IngestMetrics } from './metrics.js';
import { SpoolFullError, type Spool } from './spool.js';

export interface DurableSinkOptions {
  writer: InfluxWriter;
  spool: Spool;
  deadLetterDir: string;
  logger: Logger;
  metrics: IngestMetrics;
  replayIntervalMs?: number;
}

export class DurableSink {
  private influxUp = true;
  private spoolFull = false;
  private replayTimer: NodeJS.Timeout | undefined;
  private replaying: Promise<void> | undefined;

  constructor(private readonly options: DurableSinkOptions) {}

  get influxAvailable(): boolean {
    return this.influxUp;
  }

  start(): void {
    this.updateDepth();
    const interval = this.options.replayIntervalMs ?? 1000;
    this.replayTimer = setInterval(() => void this.replayOnce(), interval);
    this.replayTimer.unref();
    void this.replayOnce();
  }

  async close(): Promise<void> {
    clearInterval(this.replayTimer);
    await this.replaying;
  }

  async persist(lines: LineBatch, oldestTs?: number): Promise<void> {
    if (this.influxUp) {
      try {
        await this.options.writer.write(lines, oldestTs);
        // Acknowledgements flow again whatever the spool holds: a batch too large for an empty spool, refused
        // during the outage, leaves nothing for a replay to drain and would otherwise keep the spool "full".
        this.markSpoolRoom();
        return;
      } catch (error) {
        if (error instanceof PermanentWriteError) return this.deadLetter(lines, error);
        if (!(error instanceof TransientWriteError)) throw error;
        this.markDown(error);
      }
    }
    try {
      await this.options.spool.append(lines);
    } catch (error) {
      if (error instanceof SpoolFullError) {
        this.options.metrics.spoolRefused.inc();
        this.markSpoolFull(error);
      }
      throw error;
    }
    this.markSpoolRoom();
    this.updateDepth();
  }

  /** Replays the spool while InfluxDB answers; runs one pass at a time. */
  replayOnce(): Promise<void> {
    this.replaying ??= this.replay().finally(() => {
      this.replaying = undefined;
    });
    return this.replaying;
  }

  private async replay(): Promise<void> {
    const { spool, writer, logger } = this.options;
    if (spool.depth().records === 0) {
      if (!this.influxUp && (await writer.ping())) this.markUp();
      return;
    }
    if (!(await writer.ping())) return;
    const before = spool.depth();
    try {
      await spool.replay(async (lines) => {
        this.updateDepth();
        try {
          await writer.write(lines);
        } catch (error) {
          if (error instanceof PermanentWriteError) return this.deadLetter(lines, error);
          throw error;
        }
      });
      this.updateDepth();
      logger.info({ batches: before.records, bytes: before.bytes }, 'spool replayed into InfluxDB');
      this.markUp();
    } catch (error) {
      this.updateDepth();
      this.markDown(error as Error);
    }
    if (spool.depth().bytes < before.bytes) this.markSpoolRoom();
  }

  private markSpoolFull(error: SpoolFullError): void {
    if (this.spoolFull) return;
    this.spoolFull = true;
    this.options.metrics.spoolFull.set(1);
    this.options.logger.error(
      { err: error.message },
      'spool full (SPOOL_MAX_BYTES reached or its disk full): holding acknowledgements, so the broker keeps the messages until InfluxDB takes writes again',
    );
  }

  private markSpoolRoom(): void {
    if (!this.spoolFull) return;
    this.spoolFull = false;
    this.options.metrics.spoolFull.set(0);
    this.options.logger.info('the spool has room again: batches are made durable and acknowledged');
  }

  private markDown(error: Error): void {
    if (!this.influxUp) return;
    this.influxUp = false;
    this.options.logger.error({ err: error.message }, 'InfluxDB unavailable: spooling batches to disk');
  }

  private markUp(): void {
    if (this.influxUp) return;
    this.influxUp = true;
    this.options.logger.info('InfluxDB available again');
  }

  private async deadLetter(batch: LineBatch, error: Error): Promise<void> {
    const file = join(this.options.deadLetterDir, `refused-${new Date().toISOString().slice(0, 10)}.lp`);
    await mkdir(this.options.deadLetterDir, { recursive: true });
    // The batch is acknowledged once this returns, so the file is its only copy.
    await appendDurably(file, Buffer.concat([bodyOf(batch), Buffer.from('\n')]));
    const lines = linesOf(batch).length;
    this.options.metrics.deadLettered.inc(lines);
    this.options.logger.error({ err: error.message, lines, file }, 'InfluxDB refused a batch; set aside for inspection');
  }

  private updateDepth(): void {
    const depth = this.options.spool.depth();
    this.options.metrics.spoolRecords.set(depth.records);
    this.options.metrics.spoolBytes.set(depth.bytes);
  }
}
