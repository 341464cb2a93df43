/**
 * `npm start`: the whole platform on one machine. InfluxDB runs as a plain child of this process (unless
 * INFLUX_URL points elsewhere); the services run under concurrently, which prefixes their logs, restarts a crashed
 * one and stops them all on Ctrl-C. The broker keeps its durable store in DATA_DIR (or in Redis at REDIS_URL).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concurrently } from 'concurrently';
import { Type } from '@sinclair/typebox';
import { readConfig } from './env-config.js';
import { startInfluxd } from './influxd.js';
import { createLogger } from './logger.js';
import { nodeArgsFor } from './node-args.js';
import { loadOrCreateServiceSecret } from './service-secret.js';
import { waitForPort } from './wait-for.js';

const LauncherConfig = Type.Object({
  DATA_DIR: Type.String({ default: './data' }),
  INFLUX_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  INFLUX_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 8086 }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  MQTT_SERVICE_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  MQTT_PORT: Type.Integer({ default: 1883 }),
  BROKER_METRICS_PORT: Type.Integer({ default: 9101 }),
  INGEST_METRICS_PORT: Type.Integer({ default: 9102 }),
  HTTP_PORT: Type.Integer({ default: 8080 }),
  DEMO_FLEET: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
});

interface Service {
  name: string;
  entry: string;
  /** The port that answers once the service is ready. */
  port: number;
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const logger = createLogger('launcher');
const config = readConfig(LauncherConfig);
const dataDir = resolve(config.DATA_DIR);
mkdirSync(dataDir, { recursive: true });

const startedServers: { stop(): Promise<void> }[] = [];
const influx = config.INFLUX_URL ? undefined : await startLocal(() => startInfluxd({ dataDir, httpPort: config.INFLUX_PORT, logger }));
const influxUrl = config.INFLUX_URL ?? (influx as NonNullable<typeof influx>).url;

const services: Service[] = [
  { name: 'broker', entry: 'broker/src/index.ts', port: config.MQTT_PORT },
  { name: 'ingest', entry: 'ingest/src/index.ts', port: config.INGEST_METRICS_PORT },
  { name: 'api', entry: 'api/src/index.ts', port: config.HTTP_PORT },
  ...(config.DEMO_FLEET === 'on' ? [{ name: 'fleet', entry: 'simulators/src/sim.ts', port: 0 }] : []),
].filter((service) => existsSync(resolve(root, service.entry)));

const env = {
  ...process.env,
  DATA_DIR: dataDir,
  INFLUX_URL: influxUrl,
  MQTT_URL: process.env.MQTT_URL ?? `mqtt://127.0.0.1:${config.MQTT_PORT}`,
  MQTT_SERVICE_SECRET: config.MQTT_SERVICE_SECRET ?? loadOrCreateServiceSecret(resolve(dataDir, 'service-secret')),
};

const { result } = concurrently(
  services.map((service) => ({
    name: service.name,
    // exec: the shell gives way to node, so that a signal from the launcher reaches the service itself.
    command: ['exec node', ...nodeArgsFor(service.name), '--import tsx', service.entry].join(' '),
    env,
    cwd: root,
  })),
  { prefix: 'name', killOthersOn: ['failure'], restartTries: 3, restartDelay: 'exponential', killSignal: 'SIGTERM' },
);

try {
  await Promise.all(services.filter((service) => service.port > 0).map((service) => waitForPort(service.port, '127.0.0.1', 60_000)));
  printBanner();
} catch (error) {
  logger.error({ err: (error as Error).message }, 'a service did not come up');
}

await result.catch(() => undefined);
await Promise.all(startedServers.map((server) => server.stop()));
process.exit(0);

/** Nothing can run without InfluxDB: say why it did not start, and what to do, instead of a stack trace. */
async function startLocal<T extends { stop(): Promise<void> }>(start: () => Promise<T>): Promise<T> {
  try {
    const server = await start();
    startedServers.push(server);
    return server;
  } catch (error) {
    await Promise.all(startedServers.map((server) => server.stop()));
    process.stderr.write(`\n${(error as Error).message}\n\n`);
    process.exit(1);
  }
}

function printBanner(): void {
  const lines = [
    '',
    'City operations platform is running / Nền tảng vận hành đô thị đang chạy',
    `  MQTT broker      mqtt://localhost:${config.MQTT_PORT}`,
    `  InfluxDB         ${influxUrl}${influx ? ` (local, data in ${dataDir}/influxdb)` : ''}`,
    `  Broker store     ${config.REDIS_URL ?? `${dataDir}/broker-store.log`}`,
    `  Broker metrics   http://localhost:${config.BROKER_METRICS_PORT}/metrics`,
    `  Ingest metrics   http://localhost:${config.INGEST_METRICS_PORT}/metrics`,
    ...(services.some((service) => service.name === 'api')
      ? [
          `  Console          http://localhost:${config.HTTP_PORT}/`,
          `  Operations API   http://localhost:${config.HTTP_PORT}/docs  (OpenAPI: /openapi.json)`,
          `  Admin login      admin / ${existsSync(resolve(dataDir, 'admin-password')) ? `the password in ${resolve(dataDir, 'admin-password')} (until changed)` : 'ADMIN_PASSWORD'}`,
        ]
      : []),
    `  Devices          npm run devices -- --help`,
    'Ctrl-C stops everything / Nhấn Ctrl-C để dừng tất cả',
    '',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}
