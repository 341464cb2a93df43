/**
 * Late readings into the rollups. Continuous queries recompute only recent windows (the last 10
 * minutes of rollup_1m, 3 hours of rollup_1h), so a reading written later than that — a spool replayed
 * after an outage, a device's offline buffer, a gateway batch with old timestamps — would be missing
 * from the rollups planners query. Every batch InfluxDB takes is checked for such readings; the hours
 * they fall in are noted per measurement, in a file before the batch is acknowledged so that a restart
 * forgets none, and rolled up again a bounded number of hours per tick.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isDeviceKind, RAW_POLICY, ROLLUPS, type DeviceKind } from '@city/devices';
import type { Logger } from '@city/platform';
import { writeFileAtomic } from './durable-files.js';
import type { InfluxWriter } from './influx-writer.js';
import { linesOf, type LineBatch } from './line-body.js';
import type { IngestMetrics } from './metrics.js';
import { durationMs } from './storage-setup.js';

const HOUR = 3_600_000;
const minuteRollup = ROLLUPS[0] as (typeof ROLLUPS)[number];
/** A reading older than this may miss the 1-minute query's window; two runs of margin, as rolling up twice is harmless. */
export const LATE_AFTER_MS = durationMs(minuteRollup.resampleFor) - 2 * durationMs(minuteRollup.interval);
const RAW_RETENTION_MS = durationMs(RAW_POLICY.duration);

export interface HourRange {
  fromMs: number;
  toMs: number;
}

export interface LateRollupsOptions {
  stateFile: string;
  intervalMs: number;
  maxHoursPerTick: number;
  rollUp(kind: DeviceKind, range: HourRange): Promise<void>;
  logger: Logger;
  metrics: IngestMetrics;
}

export class LateRollups {
  /** Starts of the hours, per measurement, whose rollups miss late readings. */
  private readonly pending = new Map<DeviceKind, Set<number>>();
  /** Taken out of `pending` while being rolled up, so that a reading arriving meanwhile notes its hour again. */
  private inProgress: { kind: DeviceKind; hours: number[] } | undefined;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(private readonly options: LateRollupsOptions) {
    for (const [kind, hours] of Object.entries(readState(options.stateFile))) {
      if (isDeviceKind(kind)) this.pending.set(kind, new Set(hours));
    }
    this.updateGauge();
  }

  /** `oldestTs`, when known, spares reading every line of a batch with nothing late in it: the usual, live case. */
  noteWritten(lines: LineBatch, now = Date.now(), oldestTs?: number): void {
    const cutoff = now - LATE_AFTER_MS;
    if (oldestTs !== undefined && oldestTs >= cutoff) return;
    let added = false;
    for (const line of linesOf(lines)) {
      const ts = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (!(ts < cutoff)) continue;
      const kind = line.slice(0, line.indexOf(','));
      if (!isDeviceKind(kind)) continue;
      let hours = this.pending.get(kind);
      if (!hours) this.pending.set(kind, (hours = new Set()));
      const hour = Math.floor(ts / HOUR) * HOUR;
      if (hours.has(hour)) continue;
      hours.add(hour);
      added = true;
    }
    if (added) {
      this.save();
      this.updateGauge();
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Rolls up at most `maxHoursPerTick` noted hours, oldest first; one pass at a time. */
  tick(): Promise<void> {
    this.running ??= this.rollUpSome().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async rollUpSome(): Promise<void> {
    const expired = Date.now() - RAW_RETENTION_MS;
    let budget = this.options.maxHoursPerTick;
    for (const [kind, hours] of this.pending) {
      for (const hour of hours) if (hour + HOUR <= expired) hours.delete(hour);
      for (const range of coalesceHours([...hours], budget)) {
        const taken = hoursOf(range);
        for (const hour of taken) hours.delete(hour);
        this.inProgress = { kind, hours: taken };
        try {
          await this.options.rollUp(kind, range);
        } catch (error) {
          for (const hour of taken) hours.add(hour);
          if (!this.failing) this.options.logger.warn({ err: (error as Error).message, measurement: kind }, 'could not roll up late readings yet; will retry');
          this.failing = true;
          return;
        } finally {
          this.inProgress = undefined;
        }
        this.failing = false;
        budget -= taken.length;
        this.save();
        this.updateGauge();
        this.options.metrics.lateRollups.inc();
        this.options.logger.info(
          { measurement: kind, from: new Date(range.fromMs).toISOString(), to: new Date(range.toMs).toISOString(), hours: taken.length },
          'rolled up late readings',
        );
      }
      if (budget <= 0) return;
    }
  }

  private save(): void {
    const state: Record<string, number[]> = {};
    for (const [kind, hours] of this.pending) if (hours.size > 0) state[kind] = [...hours];
    if (this.inProgress) state[this.inProgress.kind] = [...(state[this.inProgress.kind] ?? []), ...this.inProgress.hours];
    writeFileAtomic(this.options.stateFile, JSON.stringify(state));
  }

  private updateGauge(): void {
    let hours = this.inProgress?.hours.length ?? 0;
    for (const pending of this.pending.values()) hours += pending.size;
    this.options.metrics.lateRollupPendingHours.set(hours);
  }
}

/** Runs of consecutive hours, oldest first, together at most `budget` hours long. */
export function coalesceHours(hours: readonly number[], budget: number): HourRange[] {
  const ranges: HourRange[] = [];
  for (const hour of [...hours].sort((a, b) => a - b)) {
    if (budget <= 0) break;
    const last = ranges.at(-1);
    if (last && last.toMs === hour) last.toMs += HOUR;
    else ranges.push({ fromMs: hour, toMs: hour + HOUR });
    budget--;
  }
  return ranges;
}

function hoursOf(range: HourRange): number[] {
  const hours: number[] = [];
  for (let hour = range.fromMs; hour < range.toMs; hour += HOUR) hours.push(hour);
  return hours;
}

/** Notes the late readings of every batch InfluxDB took, whether written at once or replayed from the spool. */
export function notingLateReadings(writer: InfluxWriter, late: LateRollups): InfluxWriter {
  return {
    async write(lines, oldestTs) {
      await writer.write(lines);
      late.noteWritten(lines, Date.now(), oldestTs);
    },
    ping: () => writer.ping(),
    close: () => writer.close(),
  };
}

function readState(file: string): Record<string, number[]> {
  if (!existsSync(file)) return {};
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(state).map(([kind, hours]) => [kind, Array.isArray(hours) ? hours.filter((hour): hour is number => Number.isSafeInteger(hour)) : []]),
    );
  } catch {
    return {};
  }
}
