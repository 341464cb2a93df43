/**
 * The demo fleet provisions itself through the registry like any device (`devices add`), and keeps the
 * secrets it was given in `$DATA_DIR/fleet/credentials.json` (0600) so that a restart reuses them. A
 * device whose secret was lost is rotated, exactly as an operator would do.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DeviceAttributes, DeviceRegistry } from '@city/devices';
import type { Placement } from './model/city-data.js';

export type Credentials = Map<string, string>;

export async function provisionFleet(registry: DeviceRegistry, placements: readonly Placement[], file: string, onProgress?: (done: number) => void): Promise<Credentials> {
  const known: Record<string, string> = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  const credentials: Credentials = new Map();
  let changed = false;
  for (const [index, placement] of placements.entries()) {
    const existing = registry.get(placement.id);
    const attributes = placementAttributes(placement);
    let secret = known[placement.id];
    if (!existing) {
      const added = await registry.add({ id: placement.id, kind: placement.kind, lon: placement.lon, lat: placement.lat, name: placement.name, zone: placement.zone, attributes, actor: 'simulator' });
      secret = added.secret;
      changed = true;
    } else if (!secret || !(await registry.authenticate(placement.id, secret))) {
      secret = await registry.rotate(placement.id, 'simulator');
      changed = true;
    }
    if (existing && JSON.stringify(existing.attributes) !== JSON.stringify(attributes)) registry.setAttributes(placement.id, attributes, 'simulator');
    credentials.set(placement.id, secret);
    onProgress?.(index + 1);
  }
  if (changed) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(Object.fromEntries(credentials), null, 1), { mode: 0o600 });
  }
  return credentials;
}

/** What the platform reads of a placement: the segment a sensor stands on, a water sensor's levels, a car park's size. */
function placementAttributes(placement: Placement): DeviceAttributes {
  const attributes: DeviceAttributes = {};
  if (placement.segment) attributes.segment = placement.segment;
  if (placement.camera) attributes.camera = true;
  if (placement.official) attributes.official = true;
  if (placement.alertLevel !== undefined) attributes.alertLevel = placement.alertLevel;
  if (placement.dangerLevel !== undefined) attributes.dangerLevel = placement.dangerLevel;
  if (placement.totalSpotNumber !== undefined) attributes.totalSpotNumber = placement.totalSpotNumber;
  if (placement.nameEn) attributes.nameEn = placement.nameEn;
  return attributes;
}
