/**
 * An InfluxDB holding the demo fleet's last 30 days for the history measurement: the cached build copied
 * and topped up to now when there is a safe one (history-cache.ts), else built afresh (and cached).
 */
import { createLogger, startInfluxd, type LocalInfluxd } from '@city/platform';
import { DEFAULT_DATABASE } from '@city/devices';
import { loadCityData, type Placement } from '@city/simulators/src/model/city-data.js';
import { readSimConfig } from '@city/simulators/src/config.js';
import { emptyOverlay } from '@city/simulators/src/model/scenarios.js';
import type { World } from '@city/simulators/src/model/sensors.js';
import { readingsIn, writeFleetHistory, type HistoryWindow } from './fleet-history.js';
import { cacheBuild, cacheKey, copyCache, usableCache } from './history-cache.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

export interface HistoryDb {
  influx: LocalInfluxd;
  placements: readonly Placement[];
  /** The window the readings cover. */
  window: HistoryWindow;
  points: number;
  cache: 'reused' | 'built';
  /** Seconds spent building or copying and topping up. */
  setupSeconds: number;
}

export interface HistoryDbOptions {
  dataDir: string;
  days: number;
  progress(message: string): void;
}

export async function openHistoryDb(options: HistoryDbOptions): Promise<HistoryDb> {
  const started = performance.now();
  const city = loadCityData();
  // The demo's own seed (SIM_SEED), so that the history is the one `npm start` would show.
  const seed = readSimConfig({ SIM_SEED: process.env.SIM_SEED }).SIM_SEED;
  const world: World = { seed, segments: city.segments, overlay: emptyOverlay() };
  const { placements } = city;
  const logger = createLogger('bench', 'silent');
  const storage = (influx: LocalInfluxd) => ({ INFLUX_URL: influx.url, INFLUX_DB: DEFAULT_DATABASE });
  const now = Date.now();
  const key = cacheKey({ seed, days: options.days, devices: placements.length });
  let cache: HistoryDb['cache'] = 'reused';
  if (!usableCache(key, now)) {
    await buildCache(key, { world, placements, days: options.days, now, progress: options.progress });
    cache = 'built';
  }
  const cached = usableCache(key, Date.now());
  if (!cached) throw new Error(`the history cache ${key} vanished right after it was built`);
  options.progress(`copying the cached history ${key} / chép dữ liệu lịch sử đã lưu`);
  copyCache(cached.dir, options.dataDir);
  const influx = await startInfluxd({ dataDir: options.dataDir, httpPort: 0, logger });
  try {
    // From the hour the cache ends in, written again whole, so that its hourly rollup counts all of it.
    const gap = { fromMs: Math.floor(cached.manifest.untilMs / HOUR) * HOUR, toMs: Date.now() };
    options.progress(`topping up the ${((gap.toMs - gap.fromMs) / 60_000).toFixed(0)} min since the cache was built / bổ sung dữ liệu từ lúc lưu đến nay`);
    await writeFleetHistory({ storage: storage(influx), world, placements, ...gap, logger });
    const window = { fromMs: cached.manifest.fromMs, toMs: gap.toMs };
    return { influx, placements, window, points: readingsIn(placements, window), cache, setupSeconds: (performance.now() - started) / 1000 };
  } catch (error) {
    await influx.stop();
    throw error;
  }
}

interface BuildOptions {
  world: World;
  placements: readonly Placement[];
  days: number;
  now: number;
  progress(message: string): void;
}

async function buildCache(key: string, options: BuildOptions): Promise<void> {
  const started = performance.now();
  const { world, placements, now } = options;
  const logger = createLogger('bench', 'silent');
  // Raw readings older than the raw retention at write time are refused; an hour's margin keeps the oldest day whole.
  const window = { fromMs: Math.ceil((now - options.days * DAY) / HOUR) * HOUR + HOUR, toMs: now };
  const total = readingsIn(placements, window);
  options.progress(`building ${options.days} days of ${placements.length} devices (${total.toLocaleString('en-US')} readings) into data/bench-cache/${key} / tạo ${options.days} ngày dữ liệu của ${placements.length} thiết bị`);
  const build = cacheBuild(key);
  try {
    const influx = await startInfluxd({ dataDir: build.dir, httpPort: 0, logger });
    let points: number;
    try {
      points = await writeFleetHistory({
        storage: { INFLUX_URL: influx.url, INFLUX_DB: DEFAULT_DATABASE },
        world,
        placements,
        ...window,
        logger,
        onChunk: ({ chunk, chunks, points: written }) => {
          const rate = Math.round(written / ((performance.now() - started) / 1000)).toLocaleString('en-US');
          options.progress(`day ${chunk}/${chunks}: ${written.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} readings written and rolled up (${rate}/s) / ngày ${chunk}/${chunks}: đã ghi và tổng hợp`);
        },
      });
    } finally {
      await influx.stop();
    }
    build.commit({ key, fromMs: window.fromMs, untilMs: window.toMs, points, builtAt: new Date(now).toISOString() });
  } catch (error) {
    build.discard();
    throw error;
  }
}
