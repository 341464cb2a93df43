/**
 * An InfluxDB holding the demo fleet's last 30 days for the history measurement: a cached build copied
 * and topped up to now when there is a safe one (history-cache.ts), else built afresh and cached.
 *
 * Two shapes: `full` holds every reading of the 30 days with their rollups; `quick`, for a `--quick` run
 * that finds no full build (writing a month of the fleet takes minutes), holds every reading of the last
 * day only and, before it, the hourly rollups the simulator writes for older history (`backfillHourly`,
 * from readings sampled every 10 minutes). A quick run takes the full build whenever there is one.
 */
import { DEFAULT_DATABASE, RAW_POLICY, ROLLUP_1H_POLICY } from '@city/devices';
import { durationMs } from '@city/ingest/storage-setup';
import { V1Writer } from '@city/ingest/influx-writer';
import { createLogger, startInfluxd, type LocalInfluxd } from '@city/platform';
import { backfillHourly } from '@city/simulators/src/backfill.js';
import { readSimConfig } from '@city/simulators/src/config.js';
import { loadCityData, type Placement } from '@city/simulators/src/model/city-data.js';
import { emptyOverlay } from '@city/simulators/src/model/scenarios.js';
import type { World } from '@city/simulators/src/model/sensors.js';
import { readingsIn, writeFleetHistory, type HistoryWindow } from './fleet-history.js';
import { cacheBuild, cacheKey, copyCache, usableCache, type CacheManifest } from './history-cache.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** A cache older than this is topped up in place first; younger, only the run's copy is. */
const REFRESH_AFTER_MS = 6 * HOUR;
const RAW_RETENTION_MS = durationMs(RAW_POLICY.duration);

export type HistoryShape = 'full' | 'quick';

export interface HistoryDb {
  influx: LocalInfluxd;
  placements: readonly Placement[];
  shape: HistoryShape;
  /** The window the history covers, and the part of it that holds every reading. */
  window: HistoryWindow;
  rawFromMs: number;
  readings: number;
  cache: 'reused' | 'built';
  /** Seconds spent building or copying and topping up. */
  setupSeconds: number;
}

export interface HistoryDbOptions {
  dataDir: string;
  days: number;
  quick: boolean;
  progress(message: string): void;
}

interface Fleet {
  world: World;
  placements: readonly Placement[];
  days: number;
  progress(message: string): void;
}

const logger = createLogger('bench', 'silent');
const storage = (influx: LocalInfluxd) => ({ INFLUX_URL: influx.url, INFLUX_DB: DEFAULT_DATABASE });

export async function openHistoryDb(options: HistoryDbOptions): Promise<HistoryDb> {
  const started = performance.now();
  const city = loadCityData();
  // The demo's own seed (SIM_SEED), so that the history is the one `npm start` would show.
  const seed = readSimConfig({ SIM_SEED: process.env.SIM_SEED }).SIM_SEED;
  const fleet: Fleet = { world: { seed, segments: city.segments, overlay: emptyOverlay() }, placements: city.placements, days: options.days, progress: options.progress };
  const key = (shape: HistoryShape) => cacheKey({ seed, days: options.days, devices: city.placements.length, shape });
  const shapes: HistoryShape[] = options.quick ? ['full', 'quick'] : ['full'];
  let found = shapes.map((shape) => ({ shape, key: key(shape) })).find(({ key: k }) => usableCache(k, Date.now()));
  let cache: HistoryDb['cache'] = 'reused';
  if (!found) {
    found = { shape: shapes.at(-1) as HistoryShape, key: key(shapes.at(-1) as HistoryShape) };
    await buildCache(found.key, found.shape, fleet);
    cache = 'built';
  }
  let cached = usableCache(found.key, Date.now());
  if (cached && Date.now() - cached.manifest.untilMs > REFRESH_AFTER_MS) {
    await refreshCache(found.key, cached, fleet);
    cached = usableCache(found.key, Date.now());
  }
  if (!cached) throw new Error(`the history cache ${found.key} vanished right after it was written`);
  options.progress(`copying data/bench-cache/${found.key} (${found.shape}) / chép dữ liệu lịch sử đã lưu`);
  copyCache(cached.dir, options.dataDir);
  // influxd replays the build's write-ahead log (over 100 MiB) before it answers: slow on a busy machine.
  const influx = await startInfluxd({ dataDir: options.dataDir, httpPort: 0, logger, startTimeoutMs: 120_000 });
  try {
    const gap = await topUp(influx, cached.manifest, fleet);
    const window = { fromMs: cached.manifest.fromMs, toMs: gap.toMs };
    return {
      influx,
      placements: fleet.placements,
      shape: found.shape,
      window,
      rawFromMs: cached.manifest.rawFromMs,
      // Raw readings older than the raw retention are gone from a cache topped up over days.
      readings: readingsIn(fleet.placements, { fromMs: Math.max(cached.manifest.rawFromMs, window.toMs - RAW_RETENTION_MS), toMs: window.toMs }),
      cache,
      setupSeconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    await influx.stop();
    throw error;
  }
}

/** Writes the fleet's history from where the cache ends to now, and says what it wrote. */
async function topUp(influx: LocalInfluxd, manifest: CacheManifest, fleet: Fleet): Promise<HistoryWindow> {
  // From the hour the cache ends in, written again whole, so that its hourly rollup counts all of it.
  const gap = { fromMs: Math.floor(manifest.untilMs / HOUR) * HOUR, toMs: Date.now() };
  fleet.progress(`topping up the ${((gap.toMs - gap.fromMs) / 60_000).toFixed(0)} min since it was built / bổ sung dữ liệu từ lúc lưu đến nay`);
  await writeFleetHistory({ storage: storage(influx), world: fleet.world, placements: fleet.placements, ...gap, logger });
  return gap;
}

/** Tops the cache itself up to now (in a copy, moved into place when done), so that later runs top up minutes, not days. */
async function refreshCache(key: string, cached: { dir: string; manifest: CacheManifest }, fleet: Fleet): Promise<void> {
  const build = cacheBuild(key);
  try {
    copyCache(cached.dir, build.dir);
    const influx = await startInfluxd({ dataDir: build.dir, httpPort: 0, logger, startTimeoutMs: 120_000 });
    let gap: HistoryWindow;
    try {
      gap = await topUp(influx, cached.manifest, fleet);
    } finally {
      await influx.stop();
    }
    build.commit({ ...cached.manifest, untilMs: gap.toMs });
  } catch (error) {
    build.discard();
    throw error;
  }
}

async function buildCache(key: string, shape: HistoryShape, fleet: Fleet): Promise<void> {
  const started = performance.now();
  const { world, placements, progress } = fleet;
  const now = Date.now();
  // Raw readings older than the raw retention at write time are refused; an hour's margin keeps the oldest day whole.
  const fromMs = Math.ceil((now - fleet.days * DAY) / HOUR) * HOUR + HOUR;
  const rawFromMs = shape === 'full' ? fromMs : Math.floor(now / HOUR) * HOUR - DAY;
  const raw = { fromMs: rawFromMs, toMs: now };
  const total = readingsIn(placements, raw);
  progress(
    `building the ${shape} history of ${placements.length} devices into data/bench-cache/${key}: ${total.toLocaleString('en-US')} readings` +
      `${shape === 'quick' ? ` of the last day, hourly rollups for the ${fleet.days - 1} days before` : ` of ${fleet.days} days`} / tạo dữ liệu lịch sử`,
  );
  const build = cacheBuild(key);
  try {
    const influx = await startInfluxd({ dataDir: build.dir, httpPort: 0, logger });
    try {
      await writeFleetHistory({
        storage: storage(influx),
        world,
        placements,
        ...raw,
        logger,
        onChunk: ({ chunk, chunks, points }) => {
          const rate = Math.round(points / ((performance.now() - started) / 1000)).toLocaleString('en-US');
          progress(`day ${chunk}/${chunks}: ${points.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} readings written with their rollups (${rate}/s) / ngày ${chunk}/${chunks}: đã ghi`);
        },
      });
      if (fromMs < rawFromMs) {
        const writer = new V1Writer({ url: influx.url, db: DEFAULT_DATABASE, rp: ROLLUP_1H_POLICY.name, timeoutMs: 120_000 });
        let reported = 0;
        await backfillHourly({
          world,
          placements,
          fromMs,
          toMs: rawFromMs,
          write: (lines) => writer.write(lines),
          onProgress: ({ done, total: hours }) => {
            if (done - reported < hours / 4 && done < hours) return;
            reported = done;
            progress(`hourly rollups: ${done.toLocaleString('en-US')} of ${hours.toLocaleString('en-US')} device-hours / tổng hợp theo giờ`);
          },
        });
      }
    } finally {
      await influx.stop();
    }
    const manifest: CacheManifest = { key, shape, fromMs, rawFromMs, untilMs: now, builtAt: new Date(now).toISOString() };
    build.commit(manifest);
  } catch (error) {
    build.discard();
    throw error;
  }
}
