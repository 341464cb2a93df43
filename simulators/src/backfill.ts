/**
 * History for planners on a fresh install. The last `days` (at most the 30 days of raw retention) go
 * through the real path — each device publishes its past readings as gateway batches with their true
 * timestamps — and are then rolled up; the months before that are written as hourly rollups directly,
 * since raw data that old would be past its retention anyway.
 */
import { DeviceClient, numericMetrics, type DeviceReading } from '@city/devices';
import { toRollupLine } from '@city/ingest/line-protocol';
import type { Credentials } from './credentials.js';
import { intervalMs } from './live-fleet.js';
import type { Placement } from './model/city-data.js';
import { readingFor, type World } from './model/sensors.js';

const HOUR = 3_600_000;

export interface BackfillProgress {
  phase: 'raw' | 'hourly';
  done: number;
  total: number;
}

/** How the backfill reaches the broker as a device: the running fleet's own connection, or one of its own. */
export interface DeviceSession {
  publish(readings: DeviceReading[]): Promise<void>;
  release(): Promise<void>;
}

export interface RawBackfillOptions {
  world: World;
  placements: readonly Placement[];
  open(placement: Placement): Promise<DeviceSession>;
  fromMs: number;
  toMs: number;
  /** Devices publishing at once: enough to keep ingest busy, few enough not to starve the live fleet. */
  concurrency?: number;
  onProgress?(progress: BackfillProgress): void;
}

/** Publishes every device's readings in [fromMs, toMs) and resolves with how many the broker acknowledged. */
export async function backfillRaw(options: RawBackfillOptions): Promise<number> {
  const { placements, world } = options;
  const total = placements.reduce((sum, placement) => sum + countSteps(options.fromMs, options.toMs, intervalMs(placement.kind)), 0);
  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < placements.length) {
      const placement = placements[next++] as Placement;
      const session = await options.open(placement);
      const step = intervalMs(placement.kind);
      let batch: DeviceReading[] = [];
      for (let t = alignUp(options.fromMs, step); t < options.toMs; t += step) {
        batch.push({ ts: t, ...readingFor(world, placement, t) });
        if (batch.length === 1000) {
          await session.publish(batch);
          done += batch.length;
          batch = [];
          options.onProgress?.({ phase: 'raw', done, total });
        }
      }
      if (batch.length > 0) await session.publish(batch);
      done += batch.length;
      options.onProgress?.({ phase: 'raw', done, total });
      await session.release();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return done;
}

export interface HourlyBackfillOptions {
  world: World;
  placements: readonly Placement[];
  fromMs: number;
  toMs: number;
  write(lines: string[]): Promise<void>;
  onProgress?(progress: BackfillProgress): void;
}

/**
 * Hourly rollup points (mean, min, max per numeric metric, from readings sampled every 10 minutes)
 * for the months before the raw window, written straight into `rollup_1h`.
 */
export async function backfillHourly(options: HourlyBackfillOptions): Promise<number> {
  const hours = Math.floor((options.toMs - alignUp(options.fromMs, HOUR)) / HOUR);
  const total = hours * options.placements.length;
  let done = 0;
  let lines: string[] = [];
  for (const placement of options.placements) {
    const metrics = numericMetrics(placement.kind);
    for (let hour = alignUp(options.fromMs, HOUR); hour + HOUR <= options.toMs; hour += HOUR) {
      const samples = Array.from({ length: 6 }, (_, i) => readingFor(options.world, placement, hour + i * 10 * 60_000));
      const aggregates: Record<string, { mean: number; min: number; max: number }> = {};
      for (const metric of metrics) {
        const series = samples.map((sample) => Number(sample[metric] ?? Number.NaN)).filter(Number.isFinite);
        if (series.length === 0) continue;
        aggregates[metric] = { mean: series.reduce((a, b) => a + b, 0) / series.length, min: Math.min(...series), max: Math.max(...series) };
      }
      lines.push(toRollupLine(placement.kind, placement.id, placement.zone, hour, aggregates));
      done++;
      if (lines.length >= 5000) {
        await options.write(lines);
        lines = [];
        options.onProgress?.({ phase: 'hourly', done, total });
      }
    }
  }
  if (lines.length > 0) await options.write(lines);
  options.onProgress?.({ phase: 'hourly', done, total });
  return done;
}

function countSteps(from: number, to: number, step: number): number {
  return Math.max(0, Math.ceil((to - alignUp(from, step)) / step));
}

function alignUp(t: number, step: number): number {
  return Math.ceil(t / step) * step;
}

export const MAX_RAW_DAYS = 30;
const DAY = 24 * HOUR;

export interface HistoryWindows {
  raw: { fromMs: number; toMs: number };
  hourly: { fromMs: number; toMs: number };
}

/**
 * Where history goes: raw readings for the last `days` (within the raw retention) and hourly rollups
 * for the `months` before, all ending at `untilMs`, where the live fleet's own readings begin — a fleet
 * at --speed 60 replays the last day itself, which the history must not write a second time.
 */
export function historyWindows(days: number, months: number, nowMs: number, untilMs = nowMs): HistoryWindows {
  // A minute's margin: a live reading of this very minute may already be on its way.
  const rawTo = Math.min(untilMs, nowMs - 60_000);
  const rawFrom = Math.min(nowMs - Math.min(days, MAX_RAW_DAYS) * DAY, rawTo);
  return { raw: { fromMs: rawFrom, toMs: rawTo }, hourly: { fromMs: rawFrom - months * 30 * DAY, toMs: rawFrom } };
}

/** Sessions of their own, for a backfill run while no fleet is connected (`npm run sim -- --backfill`). */
export function ownSessions(url: string, credentials: Credentials): (placement: Placement) => Promise<DeviceSession> {
  return async (placement) => {
    const secret = credentials.get(placement.id);
    if (!secret) throw new Error(`no credentials for ${placement.id}`);
    const client = new DeviceClient({ url, deviceId: placement.id, secret });
    await client.connect();
    return { publish: async (readings) => void (await client.publishTelemetry(readings)), release: () => client.close() };
  };
}
