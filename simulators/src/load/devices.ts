/**
 * Load devices (`load-<kind>-<n>`) are provisioned through the registry like any device, their secrets
 * kept in `$DATA_DIR/load/credentials.json` so that the next run reuses them. `--cleanup` removes them,
 * so that thousands of silent devices do not stay behind in the registry, on the map and in the
 * offline rules — not at the end of a run, because ingest may still be working through the run's
 * backlog, and it refuses readings of a device that no longer exists.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DeviceKind, DeviceRegistry } from '@city/devices';
import { kindFor, type PayloadMix } from './payloads.js';

export type LoadCredentials = { id: string; secret: string; kind: DeviceKind }[];

const ACTOR = 'load-generator';
/** Secrets are hashed with scrypt on libuv's threads: a few at once keeps them all busy. */
const PROVISIONING_CONCURRENCY = 8;

export async function provisionLoadDevices(registry: DeviceRegistry, file: string, count: number, mix: PayloadMix, onProgress: (done: number) => void): Promise<LoadCredentials> {
  const known = readKnown(file);
  const result: LoadCredentials = [];
  let changed = false;
  let next = 0;
  let done = 0;
  const provisionOne = async () => {
    while (next < count) {
      const i = next++;
      const kind = kindFor(mix, i);
      const id = `load-${kind}-${i}`;
      let secret = known[id]?.secret;
      if (!registry.get(id)) {
        secret = (await registry.add({ id, kind, lon: 108.2208, lat: 16.0544, name: `load ${i}`, actor: ACTOR })).secret;
        changed = true;
      } else if (!secret) {
        secret = await registry.rotate(id, ACTOR);
        changed = true;
      }
      known[id] = { secret: secret as string, kind };
      result[i] = { id, secret: secret as string, kind };
      onProgress(++done);
    }
  };
  await Promise.all(Array.from({ length: PROVISIONING_CONCURRENCY }, provisionOne));
  if (changed) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(known), { mode: 0o600 });
  }
  return result;
}

/** Removes every load device (whatever run made it) and forgets their secrets; returns how many went. */
export function removeLoadDevices(registry: DeviceRegistry, file: string): number {
  const ids = new Set([...Object.keys(readKnown(file)), ...registry.list().map((device) => device.id).filter((id) => id.startsWith('load-'))]);
  let removed = 0;
  for (const id of ids) if (registry.remove(id, ACTOR)) removed++;
  rmSync(file, { force: true });
  return removed;
}

function readKnown(file: string): Record<string, { secret: string; kind: DeviceKind }> {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
}
