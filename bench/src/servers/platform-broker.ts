/**
 * Our broker as `npm start` runs it: `node --import tsx broker/src/index.ts` as its own process, with its durable
 * store (a write-ahead log in DATA_DIR, synced before a QoS 1 message is acknowledged), authentication against a
 * device registry, ACL and per-device rate limits at their defaults. BENCH_BROKER_PROF=<dir> runs it under
 * `--cpu-prof` and leaves the profile there.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STORE_FILE } from '@city/broker/durable-persistence';
import { childServer, isPortOpen, nodeArgsFor } from '@city/platform';
import { freePort } from '@city/platform/testing';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const START_TIMEOUT_MS = 60_000;

export interface RunningPlatformBroker {
  pid: number;
  port: number;
  metricsPort: number;
  serviceSecret: string;
  stop(): Promise<void>;
}

/**
 * `dataDir` must hold the device registry (registry.db). `store: 'memory'` keeps sessions in memory (what most of
 * the broker's tests run with): the broker's own cost without the store's.
 */
export async function startPlatformBroker(dataDir: string, options: { store?: 'file' | 'memory'; env?: Record<string, string> } = {}): Promise<RunningPlatformBroker> {
  // A fresh store each start: an earlier run's backlog would be delivered into this run.
  const removeStore = () => rmSync(join(dataDir, STORE_FILE), { force: true });
  removeStore();
  const [port, metricsPort] = [await freePort(), await freePort()];
  const serviceSecret = randomBytes(24).toString('base64url');
  const profile = process.env.BENCH_BROKER_PROF;
  const args = [...nodeArgsFor('broker'), ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), '--import', 'tsx', 'broker/src/index.ts'];
  const broker = childServer({
    name: 'broker',
    command: process.execPath,
    args,
    cwd: root,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(port),
      BROKER_METRICS_PORT: String(metricsPort),
      MQTT_SERVICE_SECRET: serviceSecret,
      BROKER_STORE: options.store ?? 'file',
      ...options.env,
    },
    address: `127.0.0.1:${port}`,
    ready: async () => (await isPortOpen(port)) && (await isPortOpen(metricsPort)),
    startTimeoutMs: START_TIMEOUT_MS,
  });
  await broker.start();
  return {
    pid: broker.pid!,
    port,
    metricsPort,
    serviceSecret,
    async stop() {
      await broker.stop();
      removeStore();
    },
  };
}
