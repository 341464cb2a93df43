/**
 * Headless Chromium for the end-to-end tests (Debian's `chromium`, WebGL through SwiftShader), with every
 * request checked: anything not bound for this machine is refused and remembered, so a test can assert
 * that the console fetched nothing from the internet.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

export function isLocal(url: string): boolean {
  if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return true;
  try {
    const { hostname } = new URL(url);
    return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
  } catch {
    return false;
  }
}

export interface TestBrowser {
  browser: Browser;
  /** Every URL the pages tried to reach off this machine. */
  external: string[];
  newPage(): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const external: string[] = [];
  return {
    browser,
    external,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (isLocal(url)) return route.continue();
        external.push(url);
        return route.abort();
      });
      // WebSockets bypass routing: watch them too.
      context.on('page', (page) => page.on('websocket', (socket) => !isLocal(socket.url()) && external.push(socket.url())));
      // The console hands its map to tests only when asked (see map-controller.ts).
      await context.addInitScript(() => localStorage.setItem('city.exposeMap', '1'));
      const page = await context.newPage();
      page.on('websocket', (socket) => !isLocal(socket.url()) && external.push(socket.url()));
      return { context, page };
    },
    close: () => browser.close(),
  };
}

/**
 * Features of a map layer as rendered now, with the feature-state the device layers draw their readings from
 * (callers poll: a pulsing incident keeps the map from ever idling).
 */
export async function rendered(page: Page, layer: string): Promise<{ id: string; properties: Record<string, unknown> }[]> {
  return page.evaluate((layerId) => {
    const map = (window as unknown as { __cityMap: import('maplibre-gl').Map }).__cityMap;
    return map.queryRenderedFeatures({ layers: [layerId] }).map((feature) => ({ id: String(feature.id ?? feature.properties.id), properties: { ...feature.properties, ...feature.state } }));
  }, layer);
}

/** Waits until the map has drawn what it was given, or 3 s when something on it keeps animating. */
export async function mapIdle(page: Page): Promise<void> {
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const map = (window as unknown as { __cityMap: import('maplibre-gl').Map }).__cityMap;
        setTimeout(resolve, 3000);
        map.once('idle', () => resolve());
        map.triggerRepaint();
      }),
  );
}
