/**
 * Kind and zone of each device, read from the registry and cached briefly: the hot path must not hit
 * SQLite for every reading, and a device removed or moved is picked up within the cache lifetime.
 */
import type { Device, DeviceRegistry } from '@city/devices';

export class DeviceDirectory {
  private readonly cache = new Map<string, { device: Device | undefined; expires: number }>();

  constructor(
    private readonly registry: Pick<DeviceRegistry, 'get'>,
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 200_000,
  ) {}

  lookup(deviceId: string, now = Date.now()): Device | undefined {
    const hit = this.cache.get(deviceId);
    if (hit && hit.expires > now) return hit.device;
    const device = this.registry.get(deviceId);
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    // Unknown ids are cached for a shorter time so that a just-provisioned device is not refused for long.
    this.cache.set(deviceId, { device, expires: now + (device ? this.ttlMs : Math.min(this.ttlMs, 2000)) });
    return device;
  }
}
