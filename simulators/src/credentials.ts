/**
 * The demo fleet provisions itself through the registry like any device (`devices add`), and keeps the
 * secrets it was given in `$DATA_DIR/fleet/credentials.json` (0600) so that a restart reuses them. A
 * device whose secret was lost is rotated, exactly as an operator would do.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DeviceRegistry } from '@city/devices';
import type { Placement } from './model/city-data.js';

export type Credentials = Map<string, string>;

export async function provisionFleet(registry: DeviceRegistry, placements: readonly Placement[], file: string, onProgress?: (done: number) => void): Promise<Credentials> {
  const known: Record<string, string> = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  const credentials: Credentials = new Map();
  let changed = false;
  for (const [index, placement] of placements.entries()) {
    const existing = registry.get(placement.id);
    let secret = known[placement.id];
    if (!existing) {
      const added = await registry.add({ id: placement.id, kind: placement.kind, lon: placement.lon, lat: placement.lat, name: placement.name, zone: placement.zone, actor: 'simulator' });
      secret = added.secret;
      changed = true;
    } else if (!secret || !(await registry.authenticate(placement.id, secret))) {
      secret = await registry.rotate(placement.id, 'simulator');
      changed = true;
    }
    credentials.set(placement.id, secret);
    onProgress?.(index + 1);
  }
  if (changed) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(Object.fromEntries(credentials), null, 1), { mode: 0o600 });
  }
  return credentials;
}
