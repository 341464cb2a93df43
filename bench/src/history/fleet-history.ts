/**
 * The demo fleet's past written straight into InfluxDB: each device's readings at its real reporting
 * interval, from the simulator's own model, as the line protocol ingest writes (`toLine`), with the
 * rollup_1m and rollup_1h points the layout's rollups would compute from them (`toRollupLine`). MQTT is
 * left out on purpose: this builds the database the history queries run on, it does not measure ingest.
 *
 * The rollups are computed here rather than by ingest's `runRollups` (the layout's SELECT … INTO): on
 * this machine that takes about a minute per day of the fleet, half an hour for the month, while
 * computing them alongside the readings costs little. They are the same figures — per device, the
 * mean, min and max of each numeric metric per minute, and per hour the mean of those means, the min of
 * the mins and the max of the maxes — which bench/test/fleet-history.test.ts checks against `runRollups`.
 */
import { numericMetrics, ROLLUP_1H_POLICY, ROLLUP_1M_POLICY, RAW_POLICY, type DeviceKind } from '@city/devices';
import { createLogger, type Logger } from '@city/platform';
import { V1Writer } from '@city/ingest/influx-writer';
import { toLine, toRollupLine } from '@city/ingest/line-protocol';
import { ensureStorageLayout, type StorageTarget } from '@city/ingest/storage-setup';
import { intervalMs } from '@city/simulators/src/live-fleet.js';
import type { Placement } from '@city/simulators/src/model/city-data.js';
import { readingFor, type Metrics, type World } from '@city/simulators/src/model/sensors.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Lines per write, and writes in flight: InfluxDB 1.x takes 5,000–10,000-line batches best. */
const BATCH_LINES = 5000;
const WRITES_IN_FLIGHT = 3;

export interface HistoryWindow {
  fromMs: number;
  toMs: number;
}

export interface FleetHistoryOptions extends HistoryWindow {
  storage: StorageTarget;
  world: World;
  placements: readonly Placement[];
  /** Called after each chunk (a day or less) is written. */
  onChunk?(progress: { chunk: number; chunks: number; points: number }): void;
  logger?: Logger;
}

/** Readings a window holds for these placements, each on its kind's reporting grid. */
export function readingsIn(placements: readonly Placement[], window: HistoryWindow): number {
  return placements.reduce((sum, placement) => {
    const step = intervalMs(placement.kind);
    return sum + Math.max(0, Math.ceil((window.toMs - alignUp(window.fromMs, step)) / step));
  }, 0);
}

/**
 * Writes the readings of [fromMs, toMs) and their rollups, a day at a time, oldest first — one raw shard
 * at a time, as a live fleet fills them. `fromMs` must start an hour, so that every hourly rollup is
 * computed from the whole of its hour. Resolves with the raw points written.
 */
export async function writeFleetHistory(options: FleetHistoryOptions): Promise<number> {
  if (options.fromMs % HOUR !== 0) throw new Error('fleet history must start on a whole hour');
  const { storage } = options;
  await ensureStorageLayout(storage, options.logger ?? createLogger('bench', 'silent'));
  const batches = (rp: string) => new Batches(new V1Writer({ url: storage.INFLUX_URL, db: storage.INFLUX_DB, rp, timeoutMs: 120_000 }));
  const [raw, minutes, hours] = [RAW_POLICY, ROLLUP_1M_POLICY, ROLLUP_1H_POLICY].map((policy) => batches(policy.name)) as [Batches, Batches, Batches];
  const chunks = dayChunks(options);
  let points = 0;
  for (const [index, chunk] of chunks.entries()) {
    for (const placement of options.placements) {
      const metrics = numericMetrics(placement.kind);
      const step = intervalMs(placement.kind);
      let minute = new Rollup(metrics);
      let hour = new Rollup(metrics);
      const flush = async (ts: number) => {
        const bucket = Math.floor(ts / MINUTE) * MINUTE;
        if (minute.start !== undefined && minute.start !== bucket) {
          await minutes.add(rollupLine(placement, minute));
          hour.addRollup(minute);
          minute = new Rollup(metrics);
        }
        if (hour.start !== undefined && hour.start !== Math.floor(ts / HOUR) * HOUR) {
          await hours.add(rollupLine(placement, hour));
          hour = new Rollup(metrics);
        }
      };
      for (let ts = alignUp(chunk.fromMs, step); ts < chunk.toMs; ts += step) {
        const values = readingFor(options.world, placement, ts);
        await flush(ts);
        minute.addReading(Math.floor(ts / MINUTE) * MINUTE, values);
        hour.start ??= Math.floor(ts / HOUR) * HOUR;
        await raw.add(toLine(placement.kind, placement.id, placement.zone, { ts, values }));
        points++;
      }
      // Past the chunk's end: the last minute and hour are complete as far as the chunk goes.
      await flush(Number.MAX_SAFE_INTEGER - HOUR);
    }
    await Promise.all([raw.drain(), minutes.drain(), hours.drain()]);
    options.onChunk?.({ chunk: index + 1, chunks: chunks.length, points });
  }
  return points;
}

/** The running mean, min and max of each numeric metric over a device's minute or hour. */
class Rollup {
  start: number | undefined;
  private readonly figures = new Map<string, { sum: number; count: number; min: number; max: number }>();

  constructor(private readonly metrics: readonly string[]) {}

  addReading(start: number, values: Metrics): void {
    this.start ??= start;
    for (const metric of this.metrics) {
      const value = values[metric];
      if (typeof value === 'number' && Number.isFinite(value)) this.add(metric, value, value, value);
    }
  }

  /** An hour is rolled up from its minutes: the mean of their means, the extremes of their extremes. */
  addRollup(minute: Rollup): void {
    for (const [metric, aggregate] of Object.entries(minute.aggregates())) this.add(metric, aggregate.mean, aggregate.min, aggregate.max);
  }

  aggregates(): Record<string, { mean: number; min: number; max: number }> {
    return Object.fromEntries([...this.figures].map(([metric, f]) => [metric, { mean: f.sum / f.count, min: f.min, max: f.max }]));
  }

  private add(metric: string, mean: number, min: number, max: number): void {
    const f = this.figures.get(metric);
    if (!f) this.figures.set(metric, { sum: mean, count: 1, min, max });
    else {
      f.sum += mean;
      f.count++;
      f.min = Math.min(f.min, min);
      f.max = Math.max(f.max, max);
    }
  }
}

function rollupLine(placement: { kind: DeviceKind; id: string; zone: string }, rollup: Rollup): string {
  return toRollupLine(placement.kind, placement.id, placement.zone, rollup.start as number, rollup.aggregates());
}

/** Lines gathered into batches, a few writes in flight at once. */
class Batches {
  private lines: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly writer: V1Writer) {}

  async add(line: string): Promise<void> {
    this.lines.push(line);
    if (this.lines.length >= BATCH_LINES) await this.send();
  }

  async drain(): Promise<void> {
    if (this.lines.length > 0) await this.send();
    await Promise.all(this.inFlight);
  }

  private async send(): Promise<void> {
    const write: Promise<void> = this.writer.write(this.lines).finally(() => this.inFlight.delete(write));
    this.lines = [];
    this.inFlight.add(write);
    // Its failure surfaces from the race or the drain that awaits it; until then it must not count as unhandled.
    write.catch(() => undefined);
    if (this.inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(this.inFlight);
  }
}

/** Hour-aligned chunks of at most a day. */
function dayChunks(window: HistoryWindow): HistoryWindow[] {
  const chunks: HistoryWindow[] = [];
  for (let from = window.fromMs; from < window.toMs; from = Math.min(window.toMs, from + 24 * HOUR)) {
    chunks.push({ fromMs: from, toMs: Math.min(window.toMs, from + 24 * HOUR) });
  }
  return chunks;
}

function alignUp(t: number, step: number): number {
  return Math.ceil(t / step) * step;
}
