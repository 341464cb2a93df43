import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@city/platform/testing';
import { startApiStack, type ApiStack } from './helpers/api-stack.js';

const web = tempDir('city-web-dist-');
let stack: ApiStack;

beforeAll(async () => {
  mkdirSync(join(web.path, 'assets'));
  writeFileSync(join(web.path, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(web.path, 'assets', 'app-1.js'), 'console.log(1)');
  stack = await startApiStack({ WEB_DIR: web.path });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  web.cleanup();
});

describe('the console at /', () => {
  it('serves the built console, its own paths on reload, and files of a rebuild made while running', async () => {
    const page = await fetch(`${stack.baseUrl}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<title>console</title>');
    const asset = await fetch(`${stack.baseUrl}/assets/app-1.js`);
    expect(await asset.text()).toBe('console.log(1)');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(page.headers.get('cache-control')).toBe('public, max-age=0');
    const deepLink = await fetch(`${stack.baseUrl}/history`, { headers: { accept: 'text/html' } });
    expect(await deepLink.text()).toContain('<title>console</title>');

    writeFileSync(join(web.path, 'assets', 'app-2.js'), 'console.log(2)');
    const rebuilt = await fetch(`${stack.baseUrl}/assets/app-2.js`);
    expect(rebuilt.headers.get('content-type')).toMatch(/javascript/);
    expect(await rebuilt.text()).toBe('console.log(2)');
  });

  it('answers unknown api paths and missing assets with the JSON error, never the page', async () => {
    const api = await fetch(`${stack.baseUrl}/api/v1/nothing-here`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ code: 'not_found' });
    expect((await fetch(`${stack.baseUrl}/assets/missing.js`)).status).toBe(404);
  });
});
