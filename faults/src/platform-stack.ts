/**
 * The whole platform for fault tests: InfluxDB as the launcher runs it, and the broker, ingest and
 * the api as separate child processes on fixed random ports, each of which a test may kill and start again.
 * The load generator runs against it as `npm run load` would.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, influxQuery, isPortOpen, nodeArgsFor, startInfluxd, type LocalInfluxd } from '@city/platform';
import { freePort, readMetric, tempDir } from '@city/platform/testing';
import { serviceProcess, type ServiceProcess } from './service-process.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const ADMIN_PASSWORD = 'fault-suite-admin-password';

export interface LoadSummary {
  devices: number;
  connected: number;
  sent: number;
  acknowledged: number;
  /** Above 1 for gateway batches: `acknowledged` counts messages, this their readings. */
  readingsPerMessage: number;
  readingsAcknowledged: number;
  failed: number;
  reconnects: number;
  rate: number;
  /** When publishing began (every device connected), how long it lasted and how long the last acknowledgements took after it. */
  startedAt: string | null;
  durationS: number;
  drainS: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
}

export interface LoadOptions {
  devices: number;
  rate: number;
  durationS: number;
  payload?: 'traffic' | 'air' | 'mixed';
  /** Devices through the device SDK (the default; QoS 1 only) or bare connections. */
  sdk?: boolean;
  qos?: 0 | 1;
  workers?: number;
  maxInFlight?: number;
  /** Readings per message (gateway batches; bare connections only). */
  batch?: number;
  /** The SDK devices' longest wait between reconnection attempts, in seconds (the SDK's own default otherwise). */
  maxBackoffS?: number;
  /** The load generator's CPU priority (`--nice`): 0 to 19. */
  nice?: number;
  /** Node options for the load generator, which its workers take too (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Called with the load generator's process id once it runs (its workers are its children). */
  onStart?(pid: number): void;
}

export interface PlatformStack {
  dataDir: string;
  influx: LocalInfluxd;
  mqttUrl: string;
  serviceSecret: string;
  broker: ServiceProcess;
  ingest: ServiceProcess;
  api: ServiceProcess;
  brokerMetric(name: string, labels?: Record<string, string>): Promise<number>;
  ingestMetric(name: string, labels?: Record<string, string>): Promise<number>;
  /** The api's base URL, `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /** An admin's bearer token (logged in again after a restart that ended the session). */
  token(): Promise<string>;
  /** An admin's GET on the api, parsed. */
  apiGet<T>(path: string): Promise<T>;
  /** An admin's POST of a JSON body, parsed. */
  apiPost<T>(path: string, body: unknown): Promise<T>;
  /** Runs the load generator to its end (by default `--sdk` devices, QoS 1) and returns its summary. */
  load(options: LoadOptions): Promise<LoadSummary>;
  count(measurement: string, field: string, where?: string): Promise<number>;
  close(): Promise<void>;
}

export interface PlatformOptions {
  /** Overrides of api/config/rules.json, merged at the top level of each rule. */
  rules?: Record<string, Record<string, unknown>>;
  env?: Record<string, string>;
  /** Without the api (a bench that measures only broker → ingest → InfluxDB). */
  api?: boolean;
  /** Each service writes a V8 CPU profile into `<profileDir>/<service>/` when it stops. */
  profileDir?: string;
}

export async function startPlatform(options: PlatformOptions = {}): Promise<PlatformStack> {
  const dir = tempDir('city-faults-');
  const logger = createLogger('faults', process.env.TEST_LOG_LEVEL ?? 'silent');
  const influx = await startInfluxd({ dataDir: dir.path, httpPort: 0, logger });
  const [mqttPort, brokerMetricsPort, ingestMetricsPort, httpPort] = [await freePort(), await freePort(), await freePort(), await freePort()] as const;
  const serviceSecret = randomBytes(24).toString('base64url');
  const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
  const rulesFile = join(dir.path, 'rules.json');
  writeFileSync(rulesFile, JSON.stringify(mergeRules(options.rules ?? {})));
  const env = {
    DATA_DIR: dir.path,
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: String(mqttPort),
    MQTT_URL: mqttUrl,
    MQTT_SERVICE_SECRET: serviceSecret,
    INFLUX_URL: influx.url,
    BROKER_METRICS_PORT: String(brokerMetricsPort),
    INGEST_METRICS_PORT: String(ingestMetricsPort),
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    ADMIN_PASSWORD,
    RULES_FILE: rulesFile,
    BATCH_MAX_DELAY_MS: '200',
    ...options.env,
  };
  const brokerMetric = async (name: string, labels: Record<string, string> = {}) => readMetric(brokerMetricsPort, name, labels);
  const ingestMetric = async (name: string, labels: Record<string, string> = {}) => readMetric(ingestMetricsPort, name, labels);
  const baseUrl = `http://127.0.0.1:${httpPort}`;

  const nodeArgs = (name: string) => [...nodeArgsFor(name), ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(options.profileDir, name)}`] : [])];
  const broker = serviceProcess('broker', 'broker/src/index.ts', env, async () => (await isPortOpen(mqttPort)) && (await isPortOpen(brokerMetricsPort)), nodeArgs('broker'));
  const ingest = serviceProcess('ingest', 'ingest/src/index.ts', env, async () => (await ingestMetric('ingest_mqtt_subscribed')) === 1, nodeArgs('ingest'));
  const api = serviceProcess('api', 'api/src/index.ts', env, async () => (await fetch(`${baseUrl}/api/v1/health`)).status === 200, nodeArgs('api'));
  const loads = new Set<ChildProcess>();
  const stopAll = async () => {
    // The load generator passes SIGTERM on to its workers.
    await Promise.all([...loads].map((child) => new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM'))));
    await Promise.all([api.stop(), ingest.stop()]);
    await broker.stop();
    await influx.stop();
    dir.cleanup();
  };
  try {
    await broker.start();
    await Promise.all([ingest.start(), options.api === false ? undefined : api.start()]);
  } catch (error) {
    await stopAll();
    throw error;
  }

  let token: string | undefined;
  const login = async () => {
    const response = await fetch(`${baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    if (!response.ok) throw new Error(`login failed: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { token: string }).token;
  };

  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const send = async () =>
      fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${(token ??= await login())}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    let response = await send();
    if (response.status === 401) {
      token = undefined;
      response = await send();
    }
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };

  return {
    dataDir: dir.path,
    influx,
    mqttUrl,
    serviceSecret,
    broker,
    ingest,
    api,
    brokerMetric,
    ingestMetric,
    baseUrl,
    async token() {
      return (token ??= await login());
    },
    apiGet: <T>(path: string) => call<T>('GET', path),
    apiPost: <T>(path: string, body: unknown) => call<T>('POST', path, body),
    load({ devices, rate, durationS, payload = 'traffic', sdk = true, qos = 1, workers, maxInFlight, batch, maxBackoffS, nice, nodeArgs = [], onStart }) {
      const args = [...nodeArgs, '--import', 'tsx', 'simulators/src/load/load.ts', ...(sdk ? ['--sdk'] : []), '--payload', payload, '--devices', String(devices), '--rate', String(rate), '--qos', String(qos), '--duration', String(durationS)];
      if (workers) args.push('--workers', String(workers));
      if (maxInFlight) args.push('--max-in-flight', String(maxInFlight));
      if (maxBackoffS) args.push('--max-backoff', String(maxBackoffS));
      if (batch) args.push('--batch', String(batch));
      if (nice !== undefined) args.push('--nice', String(nice));
      return new Promise((resolve, reject) => {
        const child = execFile(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, timeout: (durationS + 180) * 1000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
          if (error) return reject(new Error(`load generator failed: ${error.message}\n${stderr.slice(-2000)}`));
          resolve(JSON.parse(stdout.trim().split('\n').at(-1) as string) as LoadSummary);
        });
        loads.add(child);
        if (child.pid !== undefined) onStart?.(child.pid);
        child.once('exit', () => loads.delete(child));
      });
    },
    async count(measurement, field, where = '') {
      const rows = await influxQuery(influx.url, 'city', `SELECT count("${field}") FROM "${measurement}" ${where}`);
      return Number(rows[0]?.count ?? 0);
    },
    close: stopAll,
  };
}

function mergeRules(overrides: Record<string, Record<string, unknown>>): Record<string, unknown> {
  const defaults = JSON.parse(readFileSync(join(root, 'api/config/rules.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  for (const [rule, fields] of Object.entries(overrides)) defaults[rule] = { ...defaults[rule], ...fields };
  return defaults;
}
