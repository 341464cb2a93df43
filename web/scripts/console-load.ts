/**
 * `npm run measure:console -w web [-- --devices 10000 --rate 250 --window 30]`: how the console holds
 * up with a city's worth of devices. Not a test: it prints figures for web/README.md.
 *
 * It starts a real platform (InfluxDB, broker, ingest, api serving web/dist), provisions the devices
 * straight into the registry, has the load generator's workers publish readings for every one of them
 * through the broker, waits until the api knows them all as live, then opens the console in headless
 * Chromium and measures:
 * - the time from navigation to the first complete map (every device in the map's sources, tiles loaded);
 * - the main-thread time of each stream message (the console's `city:stream-message` User Timing), and
 *   the long tasks (> 50 ms) and frame intervals over a window of live deltas, then over a quiet
 *   window with the devices paused (what the map costs with nothing arriving).
 * Progress goes to stderr, the summary as one JSON object to stdout.
 *
 * The whole platform shares this one process, as in the api's tests: 250 readings/s (each device every
 * 40 s) is what it sustains here; at 1000/s the in-process broker's emitter falls behind and overflows.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeviceRegistry, RegistryError, type DeviceKind } from '@city/devices';
import type { WorkerReport, WorkerTask } from '../../simulators/src/load/worker.js';
import { startApiStack, type ApiStack } from '../../api/test/helpers/api-stack.js';
import { launchBrowser, SCREENSHOTS, type TestBrowser } from '../test/e2e/browser.js';
import { DIST, ensureBuilt } from '../test/e2e/build.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '250' },
    window: { type: 'string', default: '30' },
    'timeout-min': { type: 'string', default: '15' },
  },
});
const DEVICES = Number(values.devices);
const RATE = Number(values.rate);
const WINDOW_S = Number(values.window);
const TIMEOUT_MS = Number(values['timeout-min']) * 60_000;

/** Kinds the map draws (traffic sensors feed segments, not points). */
const KINDS: DeviceKind[] = ['air_quality', 'noise', 'water_level', 'parking', 'streetlight'];
/** Da Nang's mainland districts; a point that falls in the sea is drawn again. */
const AREA = { west: 108.12, east: 108.26, south: 15.98, north: 16.1 };
const DEVICES_PER_WORKER = 5000;
const QUIET_S = 10;
const PASSWORD = 'user-test-password-1';
const SOURCES = ['environment', 'flood', 'parking', 'streetlights'];

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

/** A point in the city from a seeded sequence, so that runs are comparable. */
function* points(): Generator<[number, number]> {
  let seed = 7;
  const next = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  for (;;) yield [AREA.west + next() * (AREA.east - AREA.west), AREA.south + next() * (AREA.north - AREA.south)];
}

async function provision(stack: ApiStack): Promise<WorkerTask['devices']> {
  const registry = DeviceRegistry.open(join(stack.dataDir, 'registry.db'));
  const where = points();
  const devices: WorkerTask['devices'] = [];
  let index = 0;
  const started = performance.now();
  const addOne = async (): Promise<void> => {
    while (index < DEVICES) {
      const n = index++;
      const kind = KINDS[n % KINDS.length]!;
      const id = `load-${kind}-${n}`;
      for (;;) {
        const [lon, lat] = where.next().value as [number, number];
        try {
          const { secret } = await registry.add({ id, kind, lon, lat, name: `Load ${n}`, actor: 'measure' });
          devices.push({ id, secret, kind });
          break;
        } catch (error) {
          if (!(error instanceof RegistryError && error.code === 'outside_zones')) throw error;
        }
      }
      if (devices.length % 2000 === 0) log(`provisioned ${devices.length}/${DEVICES}`);
    }
  };
  // scrypt (N = 1024, about a millisecond) runs on libuv's pool: a few at a time keep it busy.
  await Promise.all(Array.from({ length: 8 }, addOne));
  registry.close();
  log(`provisioned ${DEVICES} devices in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  stack.app.services.live.syncRegistry(stack.app.services.registry.list());
  return devices;
}

function startLoad(url: string, devices: WorkerTask['devices']): { workers: ChildProcess[]; connected: Promise<number> } {
  const count = Math.ceil(devices.length / DEVICES_PER_WORKER);
  const worker = fileURLToPath(new URL('../../simulators/src/load/worker.ts', import.meta.url));
  const workers: ChildProcess[] = [];
  const connected = Array.from({ length: count }, (_, w) => {
    const share = devices.filter((_, i) => i % count === w);
    const child = fork(worker, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    workers.push(child);
    child.send({ url, devices: share, rate: (RATE * share.length) / devices.length, qos: 0, durationS: TIMEOUT_MS / 1000, maxInFlight: 20_000 } satisfies WorkerTask);
    return new Promise<number>((resolve, reject) => {
      child.on('message', (report: WorkerReport) => report.type === 'connected' && resolve(report.connected));
      child.once('exit', (code) => reject(new Error(`load worker exited (${code}) before connecting`)));
    });
  });
  return { workers, connected: Promise.all(connected).then((counts) => counts.reduce((sum, n) => sum + n, 0)) };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function percentiles(values: number[]): { n: number; p50: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1));
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: at(1) };
}

async function measure(stack: ApiStack, browser: TestBrowser, workers: ChildProcess[]) {
  await stack.token('operator');
  const login = await fetch(`${stack.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'test-operator', password: PASSWORD }) });
  const session = await login.json();
  const { page, context } = await browser.newPage();
  // Signed in before the page loads, so that the figure is the console's and not the login form's.
  await context.addInitScript((value) => sessionStorage.setItem('city.session', value), JSON.stringify(session));
  // tsx compiles the functions below with esbuild's keepNames, whose `__name` helper the page lacks.
  await context.addInitScript('globalThis.__name = (fn) => fn;');
  await page.goto(stack.baseUrl);
  // A source whose layers are all hidden loads no tiles: show every device layer, as a wall screen would.
  for (const layer of ['noise', 'parking', 'streetlights']) await page.locator(`input[data-layer="${layer}"]`).check();
  // First the store (cheap to watch: the summary strip's count), then the map's sources and tiles.
  const online = new Intl.NumberFormat('vi-VN').format(DEVICES);
  await page.waitForFunction((text) => document.querySelector('[data-testid="summary-devices"] .ok')?.textContent?.startsWith(text), online, { polling: 250, timeout: 180_000 });
  const storeCompleteMs = await page.evaluate(() => performance.now());
  // Complete: every device, with its reading, in the tiles the map has drawn. (Not `areTilesLoaded`: with
  // a delta every second some tile is always being re-cut somewhere.)
  const drawn = () =>
    page.evaluate((sources) => {
      const map = (window as unknown as { __cityMap: import('maplibre-gl').Map }).__cityMap;
      const ids = new Set<unknown>();
      for (const source of sources) for (const feature of map.querySourceFeatures(source)) if (feature.properties.readingTs) ids.add(feature.id);
      return ids.size;
    }, SOURCES);
  await until('every device drawn on the map', async () => (await drawn()) >= DEVICES, 120_000).catch(async (error: Error) => {
    throw new Error(`${error.message} (${await drawn()} drawn)`);
  });
  const measured = await page.evaluate(() => {
    const snapshot = performance.getEntriesByName('city:stream-message').find((entry) => (entry as PerformanceMeasure).detail?.type === 'snapshot');
    return {
      firstCompleteMs: performance.now(),
      layersLoadedMs: performance.getEntriesByName('city:layers-loaded')[0]?.startTime,
      snapshotAppliedMs: snapshot && snapshot.startTime + snapshot.duration,
      snapshotApplyMs: snapshot?.duration,
    };
  });
  const startup = { storeCompleteMs, ...measured };
  const { firstCompleteMs } = startup;
  log(`first complete map after ${(firstCompleteMs / 1000).toFixed(1)} s; measuring ${WINDOW_S} s of live deltas`);
  await page.screenshot({ path: join(SCREENSHOTS, 'console-load.png') });

  const observe = (seconds: number) => page.evaluate(async (seconds) => {
    performance.clearMeasures('city:stream-message');
    const longTasks: number[] = [];
    const observer = new PerformanceObserver((list) => list.getEntries().forEach((entry) => longTasks.push(entry.duration)));
    observer.observe({ type: 'longtask' });
    const frames: number[] = [];
    let last = performance.now();
    let running = true;
    const frame = (now: number) => {
      frames.push(now - last);
      last = now;
      if (running) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    running = false;
    observer.disconnect();
    const messages = performance.getEntriesByName('city:stream-message').map((entry) => ({ ms: entry.duration, devices: (entry as PerformanceMeasure).detail?.devices as number }));
    return { messages, longTasks, frames };
  }, seconds);
  const live = await observe(WINDOW_S);
  // The same page with the devices paused: what the map costs when no update arrives.
  for (const worker of workers) worker.kill('SIGSTOP');
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const quiet = await observe(QUIET_S);
  for (const worker of workers) worker.kill('SIGCONT');
  await context.close();
  return { startup, live, quiet };
}

async function main(): Promise<void> {
  await ensureBuilt();
  const stack = await startApiStack({ WEB_DIR: DIST });
  let browser: TestBrowser | undefined;
  let workers: ChildProcess[] = [];
  try {
    const devices = await provision(stack);
    const load = startLoad(stack.mqttUrl, devices);
    workers = load.workers;
    log(`${await load.connected} device connections up, publishing ${RATE} readings/s`);
    await until('every device live in the api', () => [...stack.app.services.live.devices.values()].filter((device) => device.lastSeen !== undefined).length >= DEVICES, 180_000);
    log('the api has a reading from every device');
    browser = await launchBrowser();
    const result = await measure(stack, browser, workers);
    const deltas = result.live.messages.filter((message) => message.devices < DEVICES);
    const busy = (observed: typeof result.live, seconds: number) => ({
      longTasks: { count: observed.longTasks.length, totalMs: Math.round(observed.longTasks.reduce((sum, ms) => sum + ms, 0)), busyShare: Number((observed.longTasks.reduce((sum, ms) => sum + ms, 0) / (seconds * 1000)).toFixed(2)), ...percentiles(observed.longTasks) },
      frameIntervalMs: percentiles(observed.frames),
    });
    const summary = {
      devices: DEVICES,
      readingsPerSecond: RATE,
      startupS: Object.fromEntries(Object.entries(result.startup).map(([name, ms]) => [name.replace(/Ms$/, ''), ms === undefined ? null : Number((ms / 1000).toFixed(2))])),
      windowS: WINDOW_S,
      deltaMessages: percentiles(deltas.map((message) => message.ms)),
      devicesPerDelta: percentiles(deltas.map((message) => message.devices)),
      live: busy(result.live, WINDOW_S),
      quiet: busy(result.quiet, QUIET_S),
      loadAverage: Number(loadavg()[0]!.toFixed(1)),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    // 10,000 devices dropping at once would each publish an offline status, and aedes' emitter recurses
    // through such a queue until the stack overflows; the measurement is over, so nobody needs them.
    stack.broker.broker.removeAllListeners('clientDisconnect');
    for (const worker of workers) worker.kill('SIGTERM');
    await browser?.close();
    await stack.close();
  }
}

const guard = setTimeout(() => {
  log(`gave up after ${TIMEOUT_MS / 60_000} min`);
  process.exit(1);
}, TIMEOUT_MS);
main().then(
  () => {
    clearTimeout(guard);
    process.exit(0);
  },
  (error: Error) => {
    log(`failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
