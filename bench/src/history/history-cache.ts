/**
 * The backfilled InfluxDB kept between bench runs under data/bench-cache/ (gitignored), since 30 days
 * of the fleet take minutes to write and roll up. It is reused only when it is safe to:
 * - its key matches: the same simulator model and city data (hashed), seed, fleet, window length,
 *   storage layout (retention policies and continuous queries) and influxd version;
 * - it was complete: a manifest is written, and the directory renamed into place, only after influxd
 *   stopped cleanly on it;
 * - it is recent: a run copies it, never opens it, and tops the copy up from where the cache ends to now,
 *   which only stays cheap (and the copy's oldest day within raw retention) for a few days.
 * Otherwise it is built again.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { continuousQueries, DEFAULT_DATABASE, retentionPolicyStatements } from '@city/devices';

/** Bump when what is written changes in a way the hashed sources do not show. */
const FORMAT_VERSION = 1;
/** Older than this, a cache is built again rather than topped up. */
export const MAX_CACHE_AGE_MS = 3 * 86_400_000;

const root = fileURLToPath(new URL('../../../', import.meta.url));
export const CACHE_ROOT = join(root, 'data', 'bench-cache');
const MODEL_SOURCES = [
  'simulators/src/model',
  'simulators/data',
  'simulators/src/live-fleet.ts',
  'simulators/src/backfill.ts',
  'ingest/src/line-protocol.ts',
  'bench/src/history/fleet-history.ts',
];

export interface CacheManifest {
  key: string;
  shape: string;
  /** Where the history begins, where its raw readings begin, and where it ends. */
  fromMs: number;
  rawFromMs: number;
  untilMs: number;
  builtAt: string;
}

export interface CacheKeyInputs {
  seed: number;
  days: number;
  devices: number;
  shape: string;
}

/** `history-<shape>-v1-<hash>`: every input that changes the data written. */
export function cacheKey(inputs: CacheKeyInputs): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ FORMAT_VERSION, ...inputs, influxd: influxdVersion() }));
  hash.update(retentionPolicyStatements(DEFAULT_DATABASE).join('\n'));
  hash.update(continuousQueries(DEFAULT_DATABASE).map((cq) => cq.statement).join('\n'));
  for (const file of MODEL_SOURCES.flatMap((path) => filesUnder(join(root, path)))) {
    hash.update(relative(root, file));
    hash.update(readFileSync(file));
  }
  return `${shapePrefix(inputs.shape)}v${FORMAT_VERSION}-${hash.digest('hex').slice(0, 16)}`;
}

/** The cached build for this key, if there is a complete one young enough to top up. */
export function usableCache(key: string, now: number, root = CACHE_ROOT): { dir: string; manifest: CacheManifest } | undefined {
  const dir = join(root, key);
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as CacheManifest;
  if (manifest.key !== key || now - manifest.untilMs > MAX_CACHE_AGE_MS) return undefined;
  return { dir, manifest };
}

/** A scratch directory to build a cache in; `commit` moves it into place once influxd has stopped on it. */
export function cacheBuild(key: string, root = CACHE_ROOT): { dir: string; commit(manifest: CacheManifest): void; discard(): void } {
  mkdirSync(root, { recursive: true });
  const dir = join(root, `${key}.partial-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  return {
    dir,
    commit(manifest) {
      writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      const final = join(root, key);
      // Earlier builds of this shape (older keys, or a stale one of this key) are of no further use.
      for (const entry of readdirSync(root)) {
        const stale = entry.startsWith(shapePrefix(manifest.shape)) && join(root, entry) !== dir && !buildingElsewhere(entry);
        if (stale) rmSync(join(root, entry), { recursive: true, force: true });
      }
      renameSync(dir, final);
    },
    discard: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Copies a cached InfluxDB into a run's data dir, where startInfluxd finds it as its own. */
export function copyCache(cacheDir: string, dataDir: string): void {
  cpSync(join(cacheDir, 'influxdb'), join(dataDir, 'influxdb'), { recursive: true });
}

const shapePrefix = (shape: string) => `history-${shape}-`;

/** A build another bench run is still writing (its process alive). */
function buildingElsewhere(entry: string): boolean {
  const pid = Number(/\.partial-(\d+)$/.exec(entry)?.[1]);
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function influxdVersion(): string {
  const result = spawnSync('influxd', ['version'], { encoding: 'utf8' });
  return result.stdout?.trim() ?? 'unknown';
}

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((entry) => filesUnder(join(path, entry)));
}
