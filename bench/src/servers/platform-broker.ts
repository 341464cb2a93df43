/**
 * Our broker as `npm start` runs it: `node --import tsx broker/src/index.ts` as its own process, with Redis (append
 * only, fsync always) as its durable store, authentication against a device registry, ACL and per-device rate
 * limits at their defaults. BENCH_BROKER_PROF=<dir> runs it under `--cpu-prof` and leaves the profile there.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPortOpen, startRedisServer, type LocalRedis } from '@city/platform';
import { freePort } from '@city/platform/testing';
import { startChild, type BenchChild } from './child.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface RunningPlatformBroker {
  pid: number;
  port: number;
  metricsPort: number;
  serviceSecret: string;
  stop(): Promise<void>;
}

/**
 * `dataDir` must hold the device registry (registry.db). `store: 'memory'` leaves REDIS_URL unset, so that the broker
 * keeps sessions in memory (what its tests run with): the broker's own cost without the store's.
 */
export async function startPlatformBroker(dataDir: string, options: { store?: 'redis' | 'memory'; env?: Record<string, string> } = {}): Promise<RunningPlatformBroker> {
  let redis: LocalRedis | undefined;
  let broker: BenchChild | undefined;
  // A fresh store each start: an earlier run's backlog would make Redis load for long, and would be delivered into this run.
  const storeDir = mkdtempSync(join(dataDir, 'store-'));
  try {
    if (options.store !== 'memory') redis = await startRedisServer({ dataDir: storeDir, port: 0 });
    const [port, metricsPort] = [await freePort(), await freePort()];
    const serviceSecret = randomBytes(24).toString('base64url');
    const profile = process.env.BENCH_BROKER_PROF;
    const args = [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), '--import', 'tsx', 'broker/src/index.ts'];
    broker = await startChild(
      'broker',
      process.execPath,
      args,
      {
        cwd: root,
        env: {
          ...process.env,
          LOG_LEVEL: 'warn',
          DATA_DIR: dataDir,
          MQTT_HOST: '127.0.0.1',
          MQTT_PORT: String(port),
          BROKER_METRICS_PORT: String(metricsPort),
          MQTT_SERVICE_SECRET: serviceSecret,
          ...(redis ? { REDIS_URL: redis.url } : {}),
          ...options.env,
        },
      },
      async () => (await isPortOpen(port)) && (await isPortOpen(metricsPort)),
    );
    const [running, store] = [broker, redis];
    return {
      pid: running.pid,
      port,
      metricsPort,
      serviceSecret,
      async stop() {
        await running.stop();
        await store?.stop();
        rmSync(storeDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await broker?.stop();
    await redis?.stop();
    rmSync(storeDir, { recursive: true, force: true });
    throw error;
  }
}
