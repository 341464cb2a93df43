/**
 * A real platform for integration tests: a local influxd, the broker in this process and ingest as a
 * child process (so that it can be SIGKILLed), all on random ports in a temporary data dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DeviceRegistry, type DeviceKind } from '@city/devices';
import { startBroker, type RunningBroker } from '@city/broker';
import { readBrokerConfig } from '@city/broker/config';
import { createLogger, startInfluxd, waitFor, type LocalInfluxd, influxQuery } from '@city/platform';
import { freePort, readMetric, tempDir } from '@city/platform/testing';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface Stack {
  dataDir: string;
  influx: LocalInfluxd;
  broker: RunningBroker;
  mqttUrl: string;
  /** The password of the platform's own services (`service:<name>`). */
  serviceSecret: string;
  registry: DeviceRegistry;
  /** Starts ingest as a child process; `overrides` change its environment for this start only. */
  startIngest(overrides?: Record<string, string>): Promise<void>;
  killIngest(): Promise<void>;
  /** The ingest child's pid while it runs (to read its memory), undefined once it has exited. */
  ingestPid(): number | undefined;
  provision(id: string, kind: DeviceKind, lon?: number, lat?: number): Promise<{ id: string; secret: string }>;
  query(q: string): Promise<Record<string, unknown>[]>;
  count(measurement: string, field: string, where?: string): Promise<number>;
  ingestMetric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Where ingest serves /metrics, for reading several series at once. */
  ingestMetricsPort: number;
  /** The `msg` of every line ingest logged at LOG_LEVEL (warn unless TEST_LOG_LEVEL says otherwise), oldest first. */
  ingestLogs(): string[];
  close(): Promise<void>;
}

/** A child killed by a signal keeps `exitCode` null; only both being null means it has not exited. */
const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const dir = tempDir('city-stack-');
  const logger = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const influx = await startInfluxd({ dataDir: dir.path, httpPort: 0, logger });
  const serviceSecret = randomBytes(24).toString('base64url');
  const broker = await startBroker(
    readBrokerConfig({
      DATA_DIR: dir.path,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: '0',
      BROKER_METRICS_PORT: '0',
      MQTT_SERVICE_SECRET: serviceSecret,
      DEVICE_RATE_LIMIT: '1000',
      DEVICE_RATE_BURST: '1000',
      ...env,
    }),
    logger,
  );
  const registry = DeviceRegistry.open(join(dir.path, 'registry.db'));
  const mqttUrl = `mqtt://127.0.0.1:${broker.mqttPort}`;
  const metricsPort = await freePort();
  let ingest: ChildProcess | undefined;
  const logs: string[] = [];

  const ingestMetric = (name: string, labels: Record<string, string> = {}) => readMetric(metricsPort, name, labels);

  const query = (q: string) => influxQuery(influx.url, 'city', q);

  const stack: Stack = {
    dataDir: dir.path,
    influx,
    broker,
    mqttUrl,
    serviceSecret,
    registry,
    async startIngest(overrides = {}) {
      ingest = spawn(process.execPath, ['--import', 'tsx', join(root, 'ingest/src/index.ts')], {
        cwd: root,
        env: {
          ...process.env,
          DATA_DIR: dir.path,
          MQTT_URL: mqttUrl,
          MQTT_SERVICE_SECRET: serviceSecret,
          INFLUX_URL: influx.url,
          INGEST_METRICS_PORT: String(metricsPort),
          LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
          ...env,
          ...overrides,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      createInterface({ input: ingest.stdout as Readable }).on('line', (line) => {
        try {
          logs.push(String((JSON.parse(line) as { msg?: unknown }).msg));
        } catch {
          process.stdout.write(`${line}\n`);
        }
      });
      await waitFor('ingest subscribed', () => ingestMetric('ingest_mqtt_subscribed').then((value) => value === 1, () => false), 30_000);
    },
    async killIngest() {
      const child = ingest;
      if (!child || !running(child)) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
    async provision(id, kind, lon = 108.2208, lat = 16.0544) {
      const { device, secret } = await registry.add({ id, kind, lon, lat, actor: 'test' });
      return { id: device.id, secret };
    },
    query,
    async count(measurement, field, where = '') {
      const rows = await query(`SELECT count("${field}") FROM "${measurement}" ${where}`);
      return Number(rows[0]?.count ?? 0);
    },
    ingestPid: () => (ingest && ingest.exitCode === null && ingest.signalCode === null ? ingest.pid : undefined),
    ingestMetric,
    ingestMetricsPort: metricsPort,
    ingestLogs: () => [...logs],
    async close() {
      const child = ingest;
      if (child && running(child)) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      await broker.close();
      registry.close();
      await influx.stop();
      dir.cleanup();
    },
  };
  return stack;
}
