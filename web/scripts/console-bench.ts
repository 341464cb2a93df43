/**
 * The console under a city's worth of devices, in headless Chromium: shared by `npm run measure:console -w web`
 * and the bench's `console` measurement.
 *
 * It starts a real platform (InfluxDB, broker, ingest, api serving web/dist), first opens the console with no
 * devices (the baseline: the same page, map style and platform), then provisions the devices into the registry,
 * gives each one a reading, and opens the console again while readings keep arriving. Readings go straight into
 * the api's live state rather than through the broker: the figure is the console's, and the platform's own path
 * is measured elsewhere (the latency measurement); the stream to the page is the real WebSocket.
 *
 * - First complete map: navigation → the first map `idle` after the layers and the stream's snapshot are in,
 *   at which the device layers' rendered features (`queryRenderedFeatures`) hold every device.
 * - Per delta: a Chromium trace of the page's main thread over the live window; each delta's figure is the
 *   top-level task time from its stream message to the next one (its handler, maplibre's render of it, and
 *   anything else the page did in that second), then the same per second with the feed paused. The page's
 *   work leaves out the time the main thread sat blocked in Commit, which with software WebGL is the wait
 *   for the GPU process to draw the frame; the total keeps it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultTimeWindow, DeviceRegistry, loadZones, parseTelemetry, type DeviceKind } from '@city/devices';
import type { Page } from 'playwright-core';
import { payloadFor } from '../../simulators/src/load/payloads.js';
import { startApiStack, type ApiStack } from '../../api/test/helpers/api-stack.js';
import { launchBrowser, type TestBrowser } from '../test/e2e/browser.js';
import { DIST, ensureBuilt } from '../test/e2e/build.js';
import type { ConsoleBenchFigures, ConsoleBenchOptions, PageStartup } from './console-bench-types.js';
import { busyPerInterval, evenBoundaries, mainThreadTasks, percentiles, TRACE_CATEGORIES } from './main-thread-trace.js';

/** Kinds the map draws (traffic sensors feed segments, not points). */
const KINDS: DeviceKind[] = ['air_quality', 'noise', 'water_level', 'parking', 'streetlight'];
/** Da Nang's mainland districts; a point that falls in the sea is drawn again. */
const AREA = { west: 108.12, east: 108.26, south: 15.98, north: 16.1 };
const PASSWORD = 'user-test-password-1';
/** The layers that draw devices, all shown (as on a wall screen): a hidden layer loads no tiles. */
const DEVICE_LAYERS = ['env-aqi', 'env-noise', 'flood-point', 'parking-point', 'streetlight-point'];
/**
 * The wall screen's remembered layer choice (web/src/layers/layer-choice.ts): the groups hidden by default, shown.
 * Clicking their toggles after the page opened instead measured Playwright as much as the page: each click's
 * checks wait for the page's animation frames, which a loading map spaces out, and the last of the three landed
 * about 3 s after navigation.
 */
const WALL_SCREEN_LAYERS = { noise: true, parking: true, streetlights: true };
const STREAM_MEASURE = 'city:stream-message';
const FEED_TICK_MS = 100;
/** What devtools' Performance panel shows: tasks, frames and a JavaScript profile. */
const PROFILE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-v8.cpu_profiler', 'v8.execute'];

/** A point in the city from a seeded sequence, so that runs are comparable. */
function* points(): Generator<[number, number]> {
  let seed = 7;
  const next = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  for (;;) yield [AREA.west + next() * (AREA.east - AREA.west), AREA.south + next() * (AREA.north - AREA.south)];
}

async function provision(stack: ApiStack, count: number, log: (line: string) => void): Promise<{ id: string; kind: DeviceKind }[]> {
  const zones = loadZones();
  const registry = DeviceRegistry.open(join(stack.dataDir, 'registry.db'), { zones });
  const where = points();
  const batch = Array.from({ length: count }, (_, n) => {
    const kind = KINDS[n % KINDS.length]!;
    let [lon, lat] = where.next().value as [number, number];
    while (!zones.zoneAt(lon, lat)) [lon, lat] = where.next().value as [number, number];
    return { id: `load-${kind}-${n}`, kind, lon, lat, name: `Load ${n}`, actor: 'measure' };
  });
  log(`provisioning ${count} devices / đang cấp ${count} thiết bị`);
  await registry.addMany(batch);
  registry.close();
  stack.app.services.live.syncRegistry(stack.app.services.registry.list());
  return batch.map(({ id, kind }) => ({ id, kind }));
}

/** Readings into the api's live state as its MQTT feed would apply them; each round varies the values, so colours change. */
function startFeed(stack: ApiStack, devices: { id: string; kind: DeviceKind }[], rate: number) {
  const live = stack.app.services.live;
  let next = 0;
  // The readings every device starts with are round 0: a feed that began at round 0 too sent each device its
  // starting values again, and for its first pass over the city (40 s at 250 a second) no delta changed anything.
  let round = 1;
  const apply = (device: { id: string; kind: DeviceKind }, n: number) => {
    const now = Date.now();
    const { readings } = parseTelemetry(Buffer.from(payloadFor(device.kind, now, n, now)), device.kind, defaultTimeWindow(now));
    for (const reading of readings) live.applyReading(device.id, reading, now);
  };
  devices.forEach((device, n) => apply(device, n));
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    resume() {
      timer ??= setInterval(() => {
        for (let k = 0; k < (rate * FEED_TICK_MS) / 1000; k++) {
          apply(devices[next]!, next + round * 13);
          next += 1;
          if (next < devices.length) continue;
          next = 0;
          round += 1;
        }
      }, FEED_TICK_MS);
    },
    pause() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

/** Opens the console signed in, every device layer shown, and waits for its first complete map. */
async function openConsole(stack: ApiStack, browser: TestBrowser, expected: number, log: (line: string) => void, tracePath?: string) {
  const login = await fetch(`${stack.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'test-operator', password: PASSWORD }) });
  const session = await login.json();
  const { page, context } = await browser.newPage();
  // A style expression maplibre refuses shows only here: a map that draws nothing would look merely fast.
  page.on('console', (message) => message.type() === 'error' && log(`page error / lỗi trang: ${message.text()}`));
  page.on('pageerror', (error) => log(`page error / lỗi trang: ${error.message}`));
  // Signed in before the page loads, so that the figure is the console's and not the login form's.
  await context.addInitScript((value) => sessionStorage.setItem('city.session', value), JSON.stringify(session));
  await context.addInitScript((value) => localStorage.setItem('city.layers', value), JSON.stringify(WALL_SCREEN_LAYERS));
  // tsx compiles the functions below with esbuild's keepNames, whose `__name` helper the page lacks.
  await context.addInitScript('globalThis.__name = (fn) => fn;');
  await context.addInitScript(
    ({ layers, expected, measure }) => {
      const scope = window as unknown as { __cityMap?: import('maplibre-gl').Map; __cityComplete?: { at: number; rendered: number } };
      const wait = setInterval(() => {
        const map = scope.__cityMap;
        if (!map) return;
        clearInterval(wait);
        const check = () => {
          // The moment the map went idle; the count below is the measurement's own work and comes after it.
          const at = performance.now();
          const live = performance.getEntriesByName(measure).some((entry) => (entry as PerformanceMeasure).detail?.type === 'snapshot');
          if (!live || performance.getEntriesByName('city:layers-loaded').length === 0) return;
          if (layers.some((layer) => !map.getLayer(layer) || map.getLayoutProperty(layer, 'visibility') === 'none')) return;
          const ids = new Set(map.queryRenderedFeatures({ layers }).map((feature) => feature.id));
          if (ids.size < expected) return;
          scope.__cityComplete = { at, rendered: ids.size };
          map.off('idle', check);
        };
        map.on('idle', check);
      }, 5);
    },
    { layers: DEVICE_LAYERS, expected, measure: STREAM_MEASURE },
  );
  if (tracePath) await browser.browser.startTracing(page, { categories: [...TRACE_CATEGORIES, ...PROFILE_CATEGORIES] });
  await page.goto(stack.baseUrl);
  await page.waitForFunction(() => (window as unknown as { __cityComplete?: unknown }).__cityComplete !== undefined, undefined, { polling: 200, timeout: 120_000 });
  if (tracePath) writeFileSync(tracePath, await browser.browser.stopTracing());
  const startup: PageStartup = await page.evaluate((measure) => {
    const complete = (window as unknown as { __cityComplete: { at: number; rendered: number } }).__cityComplete;
    const snapshot = performance.getEntriesByName(measure).find((entry) => (entry as PerformanceMeasure).detail?.type === 'snapshot');
    return {
      layersLoadedMs: performance.getEntriesByName('city:layers-loaded')[0]?.startTime ?? null,
      snapshotAppliedMs: snapshot ? snapshot.startTime + snapshot.duration : null,
      snapshotApplyMs: snapshot ? snapshot.duration : null,
      firstCompleteMs: complete.at,
      renderedDevices: complete.rendered,
    };
  }, STREAM_MEASURE);
  return { page, context, startup };
}

/** Main-thread time per delta (stream message to stream message), and the console's handler per delta. */
async function traceDeltas(page: Page, browser: TestBrowser, seconds: number, tracePath?: string) {
  await page.evaluate((measure) => performance.clearMeasures(measure), STREAM_MEASURE);
  await browser.browser.startTracing(page, { categories: tracePath ? [...TRACE_CATEGORIES, ...PROFILE_CATEGORIES] : TRACE_CATEGORIES });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const buffer = await browser.browser.stopTracing();
  if (tracePath) writeFileSync(tracePath, buffer);
  const trace = JSON.parse(buffer.toString('utf8'));
  const handlers = await page.evaluate((measure) => performance.getEntriesByName(measure).map((entry) => ({ ms: entry.duration, devices: (entry as PerformanceMeasure).detail?.devices as number })), STREAM_MEASURE);
  return { ...mainThreadTasks(trace, STREAM_MEASURE), handlers };
}

export async function measureConsole(options: ConsoleBenchOptions): Promise<ConsoleBenchFigures> {
  const { log } = options;
  await ensureBuilt();
  const stack = await startApiStack({ WEB_DIR: DIST });
  let browser: TestBrowser | undefined;
  let feed: ReturnType<typeof startFeed> | undefined;
  try {
    await stack.token('operator');
    browser = await launchBrowser();
    const empty = await openConsole(stack, browser, 0, log, options.startupTracePath?.replace(/(\.json)?$/, '-baseline.json'));
    await empty.context.close();
    const baselineS = (empty.startup.firstCompleteMs / 1000).toFixed(2);
    log(`baseline (no devices): first complete map after ${baselineS} s / đối chứng (không thiết bị): bản đồ đầy đủ sau ${baselineS} s`);

    const started = performance.now();
    const devices = await provision(stack, options.devices, log);
    const provisionS = ((performance.now() - started) / 1000).toFixed(1);
    log(`provisioned ${devices.length} devices in ${provisionS} s / đã cấp ${devices.length} thiết bị trong ${provisionS} s`);
    feed = startFeed(stack, devices, options.rate);
    feed.resume();
    const loaded = await openConsole(stack, browser, options.devices, log, options.startupTracePath);
    const firstS = (loaded.startup.firstCompleteMs / 1000).toFixed(2);
    log(`first complete map with ${loaded.startup.renderedDevices} devices after ${firstS} s; tracing ${options.windowS} s of deltas / bản đồ đầy đủ với ${loaded.startup.renderedDevices} thiết bị sau ${firstS} s; ghi vết ${options.windowS} s cập nhật`);

    const live = await traceDeltas(loaded.page, browser, options.windowS, options.startupTracePath?.replace(/(\.json)?$/, '-deltas.json'));
    feed.pause();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const quiet = await traceDeltas(loaded.page, browser, options.quietS, options.startupTracePath?.replace(/(\.json)?$/, '-quiet.json'));
    await loaded.context.close();

    const perDelta = busyPerInterval(live.tasks, live.marks);
    const committing = busyPerInterval(live.commits, live.marks);
    const windowMs = live.tasks.length ? (live.tasks.at(-1)!.start - live.tasks[0]!.start) / 1000 : Number.NaN;
    const long = live.tasks.filter((task) => task.dur > 50_000).map((task) => task.dur / 1000);
    const deltas = live.handlers.filter((handler) => handler.devices < options.devices);
    return {
      devices: options.devices,
      readingsPerSecond: options.rate,
      baseline: empty.startup,
      startup: loaded.startup,
      deltaMainThreadMs: percentiles(perDelta),
      deltaPageWorkMs: percentiles(perDelta.map((ms, i) => ms - committing[i]!)),
      deltaHandlerMs: percentiles(deltas.map((handler) => handler.ms)),
      devicesPerDelta: percentiles(deltas.map((handler) => handler.devices)),
      quietMainThreadMs: percentiles(busyPerInterval(quiet.tasks, evenBoundaries(quiet.tasks, 1_000_000))),
      longTasks: { ...percentiles(long), busyShare: Number((long.reduce((sum, ms) => sum + ms, 0) / windowMs).toFixed(2)) },
    };
  } finally {
    feed?.pause();
    await browser?.close();
    await stack.close();
  }
}
