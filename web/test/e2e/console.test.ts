/**
 * The console end to end: the built web/dist served by the real api over a real broker, ingest and
 * InfluxDB, driven in headless Chromium. Screenshots land in test/e2e/screenshots/ for review.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRollups } from '@city/ingest/storage-setup';
import { startApiStack, type ApiStack } from '../../../api/test/helpers/api-stack.js';
import { launchBrowser, mapIdle, rendered, SCREENSHOTS, type TestBrowser } from './browser.js';

const WEB = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(WEB, 'dist');
const HOUR = 3_600_000;
const PASSWORD = 'user-test-password-1';

/** The newest modification under a folder, to tell whether dist is older than its sources. */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newest(join(path, entry))));
}

async function ensureBuilt(): Promise<void> {
  const built = existsSync(join(DIST, 'index.html')) ? statSync(join(DIST, 'index.html')).mtimeMs : 0;
  if (built > Math.max(newest(join(WEB, 'src')), newest(join(WEB, 'index.html')))) return;
  const { build } = await import('vite');
  await build({ root: WEB, logLevel: 'warn' });
}

const DEVICES = {
  air: { id: 'e2e-air-1', kind: 'air_quality', lon: 108.215, lat: 16.06 },
  noise: { id: 'e2e-noise-1', kind: 'noise', lon: 108.216, lat: 16.061 },
  water: { id: 'e2e-water-1', kind: 'water_level', lon: 108.21, lat: 16.05, attributes: { alertLevel: 0.5, dangerLevel: 1.0 } },
  parking: { id: 'e2e-parking-1', kind: 'parking', lon: 108.22, lat: 16.07 },
  light: { id: 'e2e-light-1', kind: 'streetlight', lon: 108.218, lat: 16.065 },
  traffic: { id: 'e2e-traffic-1', kind: 'traffic', lon: 108.2265, lat: 16.0481, attributes: { segment: 'cau-tran-thi-ly' } },
} as const;

describe('operations console (Chromium, real platform)', { timeout: 60_000 }, () => {
  let stack: ApiStack;
  let browser: TestBrowser;
  let page: Page;
  const clients = new Map<string, MqttClient>();
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
    expect(parking?.properties.occupancy).toBeCloseTo(0.95);
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

  it('shows a device-detected incident, acknowledges and resolves it', async () => {
    await stack.publish(clients.get(DEVICES.traffic.id)!, 'events', { type: 'accident', ts: Date.now(), detail: { lanesBlocked: 2 } });
    const item = page.locator('li.incident').filter({ hasText: 'Tai nạn giao thông' }).first();
    await item.waitFor({ timeout: 10_000 });
    const id = await item.getAttribute('data-incident');
    expect(id).toBeTruthy();
    await expect.poll(async () => (await rendered(page, 'incident-point')).map((feature) => feature.id)).toContain(id);
    await page.screenshot({ path: join(SCREENSHOTS, '03-incident-new.png') });

    await item.getByRole('button', { expanded: false }).click();
    await item.getByLabel('Ghi chú').fill('Đã điều CSGT tới hiện trường');
    await item.getByRole('button', { name: 'Tiếp nhận' }).click();
    await expect.poll(() => item.locator('.status-chip').textContent()).toBe('Đã tiếp nhận');
    await page.screenshot({ path: join(SCREENSHOTS, '04-incident-acknowledged.png') });
    await item.getByLabel('Ghi chú').fill('Đã thông đường');
    await item.getByRole('button', { name: 'Đã xử lý' }).click();
    await expect.poll(() => page.locator(`li.incident[data-incident="${id}"]`).count()).toBe(0);
    await expect.poll(async () => (await rendered(page, 'incident-point')).map((feature) => feature.id)).not.toContain(id);

    const stored = (await (await stack.call('GET', `/api/v1/incidents/${id}`, { role: 'viewer' })).json()) as { status: string; history: { action: string; note?: string }[] };
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

  it('switches the whole console to English', async () => {
    await page.getByRole('button', { name: 'Switch to English' }).click();
    await expect.poll(() => page.getByRole('navigation').locator('h2').textContent()).toBe('Map layers');
    expect(await page.getByRole('tab', { name: 'History' }).count()).toBe(1);
    const label = await page.evaluate(() => (window as unknown as { __cityMap: import('maplibre-gl').Map }).__cityMap.getLayoutProperty('traffic-label', 'text-field'));
    expect(JSON.stringify(label)).toContain('nameEn');
    await page.evaluate(() => (window as unknown as { __cityMap: import('maplibre-gl').Map }).__cityMap.jumpTo({ center: [108.224, 16.05], zoom: 14 }));
    await mapIdle(page);
    await page.screenshot({ path: join(SCREENSHOTS, '06-english-zoomed.png') });
    await page.getByRole('button', { name: 'Chuyển sang tiếng Việt' }).click();
    await mapIdle(page);
    await page.screenshot({ path: join(SCREENSHOTS, '07-vietnamese-zoomed.png') });
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
