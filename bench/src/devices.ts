/**
 * Devices for the broker measurements, provisioned through the registry like any device. Hashing thousands of
 * secrets takes a while, so the registry and the secrets are kept between runs (in the system's temp folder)
 * and each measurement gets a copy of the registry file.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceRegistry } from '@city/devices';

export interface BenchDevice {
  id: string;
  secret: string;
}

const CACHE = join(tmpdir(), 'city-bench-broker-devices');
const REGISTRY = join(CACHE, 'registry.db');
const SECRETS = join(CACHE, 'secrets.json');
/** scrypt runs on libuv's threads: a few at once keeps them busy. */
const CONCURRENCY = 8;

/** `count` provisioned devices, with the registry holding them copied to `dataDir/registry.db`. */
export async function benchDevices(count: number, dataDir: string, progress: (message: string) => void): Promise<BenchDevice[]> {
  mkdirSync(CACHE, { recursive: true });
  const secrets: Record<string, string> = existsSync(SECRETS) ? JSON.parse(readFileSync(SECRETS, 'utf8')) : {};
  const registry = DeviceRegistry.open(REGISTRY);
  const devices: BenchDevice[] = [];
  try {
    let next = 0;
    let added = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < count) {
          const i = next++;
          const id = `bench-${i}`;
          let secret = secrets[id];
          if (!registry.get(id)) secret = (await registry.add({ id, kind: 'traffic', lon: 108.2208, lat: 16.0544, actor: 'bench' })).secret;
          else if (!secret) secret = await registry.rotate(id, 'bench');
          if (secrets[id] !== secret) {
            secrets[id] = secret;
            if (++added % 2000 === 0) progress(`provisioned ${added} devices / đã cấp ${added} thiết bị`);
          }
          devices[i] = { id, secret };
        }
      }),
    );
    if (added > 0) writeFileSync(SECRETS, JSON.stringify(secrets), { mode: 0o600 });
  } finally {
    // Closing checkpoints the write-ahead log into the file, so that the copy is whole.
    registry.close();
  }
  mkdirSync(dataDir, { recursive: true });
  copyFileSync(REGISTRY, join(dataDir, 'registry.db'));
  return devices;
}
