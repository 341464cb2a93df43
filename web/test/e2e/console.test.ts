/**
 * The console end to end: the built web/dist served by the real api over a real broker, ingest and
 * InfluxDB, driven in headless Chromium. Screenshots land in test/e2e/screenshots/ for review.
 */
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRollups } from '@city/ingest/storage-setup';
import { createLogger } from '@city/platform';
import { startApiStack, type ApiStack } from '../../../api/test/helpers/api-stack.js';
import { SimClock } from '../../../simulators/src/clock.js';
import { LiveFleet } from '../../../simulators/src/live-fleet.js';
import { loadCityData, type Placement } from '../../../simulators/src/model/city-data.js';
import { emptyOverlay } from '../../../simulators/src/model/scenarios.js';
import type { World } from '../../../simulators/src/model/sensors.js';
import { runScenario } from '../../../simulators/src/scenario-runner.js';
import { launchBrowser, mapIdle, rendered, SCREENSHOTS, type TestBrowser } from './browser.js';
import { DIST, ensureBuilt } from './build.js';

const HOUR = 3_600_000;
const PASSWORD = 'user-test-password-1';

const DEVICES = {
  air: { id: 'e2e-air-1', kind: 'air_quality', lon: 108.215, lat: 16.06 },
  noise: { id: 'e2e-noise-1', kind: 'noise', lon: 108.216, lat: 16.061 },
  water: { id: 'e2e-water-1', kind: 'water_level', lon: 108.21, lat: 16.05, attributes: { alertLevel: 0.5, dangerLevel: 1.0 } },
  parking: { id: 'e2e-parking-1', kind: 'parking', lon: 108.22, lat: 16.07 },
  light: { id: 'e2e-light-1', kind: 'streetlight', lon: 108.218, lat: 16.065 },
  traffic: { id: 'e2e-traffic-1', kind: 'traffic', lon: 108.2265, lat: 16.0481, attributes: { segment: 'cau-tran-thi-ly' } },
} as const;

/** The simulator's bridge camera, on another bridge than the history test's traffic sensor. */
const CAMERA: Placement = { id: 'e2e-cam-1', kind: 'traffic', name: 'Camera cầu Rồng', nameEn: 'Dragon Bridge camera', zone: 'hai-chau', lon: 108.2275, lat: 16.0612, segment: 'cau-rong', camera: true };

describe('operations console (Chromium, real platform)', { timeout: 60_000 }, () => {
  let stack: ApiStack;
  let browser: TestBrowser;
  let page: Page;
  const clients = new Map<string, MqttClient>();
  let fleet: LiveFleet | undefined;
  const now = Date.now();
  /** An instant of the history test, on the quarter-hour grid the history view uses. */
  const earlier = Math.floor((now - 3 * HOUR) / (15 * 60_000)) * 15 * 60_000 + 5 * 60_000;

  beforeAll(async () => {
    await ensureBuilt();
    stack = await startApiStack({ WEB_DIR: DIST });
    for (const device of Object.values(DEVICES)) {
      const secret = await stack.provision(device.id, device.kind, device.lon, device.lat, 'attributes' in device ? device.attributes : undefined);
      clients.set(device.id, await stack.device(device.id, secret));
    }
    const publish = (id: string, payload: unknown) => stack.publish(clients.get(id)!, 'telemetry', payload);
    // Three hours of PM2.5 give the station a VN_AQI (its NowCast needs two of the last three hours).
    await publish(DEVICES.air.id, [2, 1, 0].map((hours) => ({ ts: now - hours * HOUR, pm25: 42 })));
    await publish(DEVICES.noise.id, { LAeq: 72, LAmax: 85 });
    await publish(DEVICES.water.id, { currentLevel: 0.2, rainfall: 3 });
    await publish(DEVICES.parking.id, { occupiedSpotNumber: 95, totalSpotNumber: 100 });
    await publish(DEVICES.light.id, { powerState: 'on', illuminanceLevel: 0.9, powerConsumption: 120 });
    // Jammed three hours ago, flowing now: what the history slider must tell apart.
    await publish(DEVICES.traffic.id, [
      { ts: earlier, intensity: 3000, averageVehicleSpeed: 6, occupancy: 0.8 },
      { ts: now - 1000, intensity: 900, averageVehicleSpeed: 48, occupancy: 0.08 },
    ]);
    // Readings written after their time are rolled up explicitly, as a backfill is.
    await waitFor(async () => (await stack.query(`SELECT count("intensity") FROM "traffic" WHERE "device_id" = '${DEVICES.traffic.id}'`)).length > 0);
    await runRollups({ INFLUX_URL: stack.influx.url, INFLUX_DB: 'city' }, now - 4 * HOUR, now);
    browser = await launchBrowser();
    ({ page } = await browser.newPage());
    page.setDefaultTimeout(15_000);
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    await browser?.close();
    await stack?.close();
  });

  it('logs in (and refuses a wrong password)', async () => {
    await stack.token('operator');
    await page.goto(stack.baseUrl);
    await page.getByLabel('Tên đăng nhập').fill('test-operator');
    await page.getByLabel('Mật khẩu').fill('wrong-password');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Sai tên đăng nhập');
    await page.screenshot({ path: join(SCREENSHOTS, '01-login.png') });
    await page.getByLabel('Mật khẩu').fill(PASSWORD);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.locator('.connection[data-state="live"]').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator('.summary').textContent()).toContain('6 hoạt động');
  });

  it('draws every layer from the live platform', async () => {
    for (const layer of ['noise', 'parking', 'streetlights']) await page.locator(`input[data-layer="${layer}"]`).check();
    await mapIdle(page);
    const expectations: [string, string][] = [
      ['traffic-line', 'cau-tran-thi-ly'],
      ['env-aqi', DEVICES.air.id],
      ['env-noise', DEVICES.noise.id],
      ['flood-point', DEVICES.water.id],
      ['parking-point', DEVICES.parking.id],
      ['streetlight-point', DEVICES.light.id],
      ['zone-fill', 'hai-chau'],
    ];
    for (const [layer, id] of expectations) {
      await expect.poll(async () => (await rendered(page, layer)).map((feature) => feature.id), { timeout: 5000, message: layer }).toContain(id);
    }
    const air = (await rendered(page, 'env-aqi')).find((feature) => feature.id === DEVICES.air.id);
    expect(air?.properties.aqiCategory).toBe(2);
    const parking = (await rendered(page, 'parking-point')).find((feature) => feature.id === DEVICES.parking.id);
    // Coloured by band: 0.95 is the full band's (layers/definitions.ts, PAINTED_BANDS).
    expect(parking?.properties.occupancyBand).toBe(2);
    // The frames spaced while the city loaded (map/frame-spacing.ts) are back to maplibre's own pace once it is drawn.
    expect(await page.evaluate(() => Object.hasOwn((window as unknown as { __cityMap: object }).__cityMap, 'triggerRepaint'))).toBe(false);
    await page.screenshot({ path: join(SCREENSHOTS, '02-live-map.png') });
  });

  it('moves the map within 2 s of a reading published over MQTT', async () => {
    const floodOf = async () => (await rendered(page, 'flood-point')).find((feature) => feature.id === DEVICES.water.id)?.properties.flood;
    expect(await floodOf()).toBe('normal');
    const published = Date.now();
    await stack.publish(clients.get(DEVICES.water.id)!, 'telemetry', { currentLevel: 1.25, rainfall: 40 });
    await expect.poll(floodOf, { timeout: 2000, interval: 100 }).toBe('danger');
    expect(Date.now() - published).toBeLessThan(2000);
  });

  it('shows an accident from the simulator\'s scenario, acknowledges and resolves it', async () => {
    // The demo fleet's own code path: its camera on the bridge reports the accident the scenario stages.
    const secret = await stack.provision(CAMERA.id, CAMERA.kind, CAMERA.lon, CAMERA.lat, { segment: 'cau-rong' });
    const world: World = { seed: 3, segments: new Map([['cau-rong', loadCityData().segments.get('cau-rong')!]]), overlay: emptyOverlay() };
    const logger = createLogger('e2e', 'silent');
    fleet = new LiveFleet({ url: stack.mqttUrl, world, clock: new SimClock(1, Date.now()), placements: [CAMERA], credentials: new Map([[CAMERA.id, secret]]), logger });
    await fleet.start();
    // The camera reports only once connected: wait until the platform has it online.
    await waitFor(async () => stack.app.services.live.devices.get(CAMERA.id)?.presence === 'online');
    const outcome = await runScenario('accident', Date.now(), world, [CAMERA], fleet, logger);
    expect(outcome.devices).toEqual([CAMERA.id]);
    const item = page.locator('li.incident').filter({ hasText: 'Tai nạn giao thông' }).first();
    await item.waitFor({ timeout: 10_000 });
    const id = await item.getAttribute('data-incident');
    expect(id).toBeTruthy();
    await expect.poll(async () => (await rendered(page, 'incident-point')).map((feature) => feature.id)).toContain(id);
    // New, so it pulses (a CSS marker) until someone opens it.
    await page.locator(`.incident-pulse[data-incident="${id}"]`).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, '03-incident-new.png') });

    await item.getByRole('button', { expanded: false }).click();
    await expect.poll(() => page.locator(`.incident-pulse[data-incident="${id}"]`).count()).toBe(0);
    await item.getByLabel('Ghi chú').fill('Đã điều CSGT tới hiện trường');
    await item.getByRole('button', { name: 'Tiếp nhận' }).click();
    await expect.poll(() => item.locator('.status-chip').textContent()).toBe('Đã tiếp nhận');
    await page.screenshot({ path: join(SCREENSHOTS, '04-incident-acknowledged.png') });
    await item.getByLabel('Ghi chú').fill('Đã thông đường');
    await item.getByRole('button', { name: 'Đã xử lý' }).click();
    await expect.poll(() => page.locator(`li.incident[data-incident="${id}"]`).count()).toBe(0);
    await expect.poll(async () => (await rendered(page, 'incident-point')).map((feature) => feature.id)).not.toContain(id);

    const stored = (await (await stack.call('GET', `/api/v1/incidents/${id}`, { role: 'viewer' })).json()) as { status: string; deviceId?: string; history: { action: string; note?: string }[] };
    expect(stored.deviceId).toBe(CAMERA.id);
    expect(stored.status).toBe('resolved');
    expect(stored.history.map((entry) => entry.note)).toContain('Đã thông đường');
  });

  it('hides the incident actions from a viewer', async () => {
    await stack.token('viewer');
    const incident = (await (await stack.call('POST', '/api/v1/incidents', { role: 'operator', body: { type: 'fallen_tree', category: 'weather', severity: 'high', description: 'Cây đổ chắn đường', lon: 108.219, lat: 16.066 } })).json()) as { id: string };
    const { page: viewerPage, context } = await browser.newPage();
    await viewerPage.goto(stack.baseUrl);
    await viewerPage.getByLabel('Tên đăng nhập').fill('test-viewer');
    await viewerPage.getByLabel('Mật khẩu').fill(PASSWORD);
    await viewerPage.getByRole('button', { name: 'Đăng nhập' }).click();
    const item = viewerPage.locator(`li.incident[data-incident="${incident.id}"]`);
    await item.getByRole('button', { expanded: false }).click();
    await expect.poll(() => item.locator('.incident-description').textContent()).toBe('Cây đổ chắn đường');
    expect(await item.getByRole('button', { name: 'Tiếp nhận' }).count()).toBe(0);
    expect(await viewerPage.getByRole('button', { name: 'Báo sự cố' }).count()).toBe(0);
    await context.close();
  });

  it('replays an earlier moment with the history slider', async () => {
    // The incident test flew the map to the Dragon Bridge: bring the Trần Thị Lý bridge into view.
    await page.evaluate(() => (window as unknown as { __cityMap: import('maplibre-gl').Map }).__cityMap.jumpTo({ center: [108.2265, 16.0481], zoom: 14 }));
    await page.getByRole('tab', { name: 'Lịch sử' }).click();
    const slider = page.getByTestId('history-slider');
    await slider.waitFor({ timeout: 15_000 });
    const congestion = async () => (await rendered(page, 'traffic-line')).find((feature) => feature.id === 'cau-tran-thi-ly')?.properties.congestion;
    await expect.poll(congestion).toBe('free');
    const midnight = Date.parse(`${new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(now)}T00:00:00+07:00`);
    // The earlier reading may fall on yesterday's date in the city: then pick that day.
    if (earlier < midnight) {
      await page.getByLabel('Ngày', { exact: true }).fill(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(earlier));
      await slider.waitFor();
    }
    const dayStart = earlier < midnight ? midnight - 24 * HOUR : midnight;
    await slider.fill(String(Math.floor((earlier - dayStart) / (15 * 60_000))));
    await expect.poll(congestion).toBe('severe');
    await page.screenshot({ path: join(SCREENSHOTS, '05-history.png') });
    await page.getByRole('tab', { name: 'Trực tiếp' }).click();
    await expect.poll(congestion).toBe('free');
  });

  it('reaches a map feature and the modes from the keyboard', async () => {
    const search = page.getByRole('combobox', { name: 'Tìm thiết bị, đoạn đường, khu vực' });
    await search.focus();
    await page.keyboard.type('e2e-park');
    await page.getByRole('option', { name: /e2e-parking-1/ }).waitFor();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('feature-panel').locator('.panel-id').textContent()).toBe(DEVICES.parking.id);
    await page.screenshot({ path: join(SCREENSHOTS, '06-search.png') });
    await page.getByRole('button', { name: 'Đóng' }).click();

    await page.getByRole('tab', { name: 'Trực tiếp' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByRole('tab', { name: 'Lịch sử' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('mode-tab-history');
    await page.keyboard.press('Home');
    await expect.poll(() => page.getByRole('tab', { name: 'Trực tiếp' }).getAttribute('aria-selected')).toBe('true');
  });

  it('switches the whole console to English', async () => {
    await page.getByRole('button', { name: 'Switch to English' }).click();
    await expect.poll(() => page.getByRole('navigation').locator('h2').textContent()).toBe('Map layers');
    expect(await page.getByRole('tab', { name: 'History' }).count()).toBe(1);
    const labels = await page.evaluate(() => ['traffic-label', 'water-label'].map((layer) => (window as unknown as { __cityMap: import('maplibre-gl').Map }).__cityMap.getLayoutProperty(layer, 'text-field')));
    for (const label of labels) expect(JSON.stringify(label)).toContain('nameEn');
    expect(await page.evaluate(() => [document.title, document.documentElement.lang])).toEqual(['Intelligent Operations Centre', 'en']);
    await expect.poll(() => page.locator('.maplibregl-ctrl-attrib').textContent()).toContain('Administrative boundaries');
    expect(await page.getByTestId('summary-incidents').textContent()).toContain('Critical');
    await page.evaluate(() => (window as unknown as { __cityMap: import('maplibre-gl').Map }).__cityMap.jumpTo({ center: [108.224, 16.05], zoom: 14 }));
    await mapIdle(page);
    await page.screenshot({ path: join(SCREENSHOTS, '07-english-zoomed.png') });
    await page.getByRole('button', { name: 'Chuyển sang tiếng Việt' }).click();
    await mapIdle(page);
    await page.screenshot({ path: join(SCREENSHOTS, '08-vietnamese-zoomed.png') });
  });

  it('fetches the map font files once, as a signed-in page starts, and draws its labels with them', async () => {
    const requested: { path: string; type: string }[] = [];
    const onRequest = (request: Request) => requested.push({ path: new URL(request.url()).pathname, type: request.resourceType() });
    page.on('request', onRequest);
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { __cityMap?: unknown }).__cityMap !== undefined);
    await page.locator('.connection[data-state="live"]').waitFor();
    await mapIdle(page);
    page.off('request', onRequest);
    // The page's CSS loads the same files for its own text, as fonts; the map's come as fetches.
    const fonts = requested.flatMap(({ path, type }, at) => (type === 'fetch' && path.endsWith('.woff2') ? [{ path, at }] : []));
    // Six files (regular and semibold, three subsets each), each fetched once, by the first script before it asks for
    // the map's layers, and not again when maplibre draws the labels.
    expect(new Set(fonts.map(({ path }) => path)).size).toBe(6);
    expect(fonts).toHaveLength(6);
    const firstLayer = requested.findIndex(({ path }) => path.startsWith('/api/v1/layers/'));
    expect(firstLayer).toBeGreaterThan(-1);
    expect(fonts.every(({ at }) => at < firstLayer)).toBe(true);
    const faces = await page.evaluate(() => [...document.fonts].filter((face) => face.family.startsWith('maplibre-gl-font-face')).map((face) => face.status));
    expect(faces.length).toBeGreaterThan(0);
    expect(faces.every((status) => status === 'loaded')).toBe(true);
  });

  it('comes back from a reload with the layers it showed', async () => {
    // Noise, parking and street lights were switched on above; parking goes off again.
    await page.locator('input[data-layer="parking"]').uncheck();
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { __cityMap?: unknown }).__cityMap !== undefined);
    await page.locator('.connection[data-state="live"]').waitFor();
    await mapIdle(page);
    const toggles = await Promise.all(['noise', 'parking', 'streetlights', 'traffic'].map((layer) => page.locator(`input[data-layer="${layer}"]`).isChecked()));
    expect(toggles).toEqual([true, false, true, true]);
    await expect
      .poll(() => page.evaluate(() => ['env-noise', 'parking-point', 'streetlight-point'].map((layer) => (window as unknown as { __cityMap: import('maplibre-gl').Map }).__cityMap.getLayoutProperty(layer, 'visibility'))))
      .toEqual(['visible', 'none', 'visible']);
    await expect.poll(async () => (await rendered(page, 'env-noise')).map((feature) => feature.id)).toContain(DEVICES.noise.id);
  });

  it('fetched nothing from off this machine', () => {
    expect(browser.external).toEqual([]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
