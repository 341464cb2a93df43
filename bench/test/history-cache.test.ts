import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@city/platform/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheBuild, cacheKey, MAX_CACHE_AGE_MS, usableCache, type CacheManifest } from '../src/history/history-cache.js';

const dirs: { cleanup(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

function root(): string {
  const dir = tempDir('bench-history-cache-');
  dirs.push(dir);
  return dir.path;
}

const manifest = (key: string, shape: string, untilMs: number): CacheManifest => ({ key, shape, fromMs: 0, rawFromMs: 0, untilMs, builtAt: new Date(untilMs).toISOString() });

describe('the history cache', () => {
  it('is keyed by every input that changes the data, the shape first', () => {
    const inputs = { seed: 2025, days: 30, devices: 310, shape: 'full' };
    expect(cacheKey(inputs)).toBe(cacheKey({ ...inputs }));
    expect(cacheKey(inputs)).toMatch(/^history-full-v\d+-[0-9a-f]{16}$/);
    for (const changed of [{ seed: 1 }, { days: 7 }, { devices: 300 }, { shape: 'quick' }]) expect(cacheKey({ ...inputs, ...changed })).not.toBe(cacheKey(inputs));
  });

  it('offers a build only once it is committed, and only while it is young enough to top up', () => {
    const dir = root();
    const now = Date.now();
    const build = cacheBuild('history-full-v1-a', dir);
    mkdirSync(join(build.dir, 'influxdb'), { recursive: true });
    expect(usableCache('history-full-v1-a', now, dir)).toBeUndefined();
    build.commit(manifest('history-full-v1-a', 'full', now));
    expect(usableCache('history-full-v1-a', now, dir)?.manifest.untilMs).toBe(now);
    expect(usableCache('history-full-v1-a', now + MAX_CACHE_AGE_MS + 1, dir)).toBeUndefined();
    expect(usableCache('history-full-v1-b', now, dir)).toBeUndefined();
  });

  it('refuses a build whose manifest names another key', () => {
    const dir = root();
    mkdirSync(join(dir, 'history-full-v1-a'));
    writeFileSync(join(dir, 'history-full-v1-a', 'manifest.json'), JSON.stringify(manifest('history-full-v1-other', 'full', Date.now())));
    expect(usableCache('history-full-v1-a', Date.now(), dir)).toBeUndefined();
  });

  it('replaces earlier builds of its shape and keeps the other shape’s', () => {
    const dir = root();
    const now = Date.now();
    for (const [key, shape] of [['history-full-v1-old', 'full'], ['history-quick-v1-q', 'quick'], ['history-full-v1-new', 'full']] as const) {
      const build = cacheBuild(key, dir);
      mkdirSync(build.dir, { recursive: true });
      build.commit(manifest(key, shape, now));
    }
    expect(readdirSync(dir).sort()).toEqual(['history-full-v1-new', 'history-quick-v1-q']);
  });

  it('leaves nothing behind when a build is discarded', () => {
    const dir = root();
    const build = cacheBuild('history-full-v1-a', dir);
    mkdirSync(build.dir, { recursive: true });
    build.discard();
    expect(existsSync(build.dir)).toBe(false);
  });
});
