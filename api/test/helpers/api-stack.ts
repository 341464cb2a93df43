/**
 * A real platform for the api's integration tests: a local influxd, the broker and ingest in this
 * process, and the api listening on a random port, all in a temporary data dir.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import { deviceTopic, DeviceRegistry, type DeviceAttributes, type DeviceKind } from '@city/devices';
import { startBroker, type RunningBroker } from '@city/broker';
import { readBrokerConfig } from '@city/broker/config';
import { startIngest, type RunningIngest } from '@city/ingest';
import { readIngestConfig } from '@city/ingest/config';
import { createLogger, influxQuery, startInfluxd, type LocalInfluxd } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { Role } from '../../src/auth/roles.js';
import { readApiConfig } from '../../src/config.js';

export const ADMIN_PASSWORD = 'admin-test-password-1';
const USER_PASSWORD = 'user-test-password-1';

export interface ApiStack {
  dataDir: string;
  influx: LocalInfluxd;
  broker: RunningBroker;
  app: FastifyInstance;
  baseUrl: string;
  mqttUrl: string;
  /** A bearer token for a user of this role (created on first use). */
  token(role: Role): Promise<string>;
  /** Calls the api over HTTP with that role's token (or none). */
  call(method: string, path: string, options?: { role?: Role; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  provision(id: string, kind: DeviceKind, lon: number, lat: number, attributes?: DeviceAttributes): Promise<string>;
  /** A connected device; its readings go to `devices/{id}/telemetry`. */
  device(id: string, secret: string): Promise<MqttClient>;
  publish(client: MqttClient, channel: 'telemetry' | 'events', payload: unknown): Promise<void>;
  /** `follow`: the stream's `devices`, `zones` and `kinds` parameters. */
  stream(role?: Role, follow?: Record<string, string>): Promise<StreamClient>;
  query(q: string): Promise<Record<string, unknown>[]>;
  restartApp(): Promise<void>;
  close(): Promise<void>;
}

export interface StreamClient {
  messages: Record<string, unknown>[];
  /** Resolves with the first message (already received or to come) that matches. */
  next(match: (message: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): void;
}

export async function startApiStack(env: Record<string, string> = {}): Promise<ApiStack> {
  const dir = tempDir('city-api-');
  const logger = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const influx = await startInfluxd({ dataDir: dir.path, httpPort: 0, logger });
  const serviceSecret = randomBytes(24).toString('base64url');
  const broker = await startBroker(
    readBrokerConfig({ DATA_DIR: dir.path, MQTT_HOST: '127.0.0.1', MQTT_PORT: '0', BROKER_METRICS_PORT: '0', MQTT_SERVICE_SECRET: serviceSecret, DEVICE_RATE_LIMIT: '1000', DEVICE_RATE_BURST: '1000' }),
    logger,
  );
  const mqttUrl = `mqtt://127.0.0.1:${broker.mqttPort}`;
  const ingest: RunningIngest = await startIngest(
    readIngestConfig({ DATA_DIR: dir.path, MQTT_URL: mqttUrl, MQTT_SERVICE_SECRET: serviceSecret, INFLUX_URL: influx.url, INGEST_METRICS_PORT: '0', BATCH_MAX_DELAY_MS: '100' }),
    logger,
  );
  const config = readApiConfig({ DATA_DIR: dir.path, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_URL: mqttUrl, MQTT_SERVICE_SECRET: serviceSecret, INFLUX_URL: influx.url, ADMIN_PASSWORD, ...env });
  const registry = DeviceRegistry.open(join(dir.path, 'registry.db'));
  const tokens = new Map<Role, string>();
  const clients: MqttClient[] = [];
  const sockets: WebSocket[] = [];

  const stack: ApiStack = {
    dataDir: dir.path,
    influx,
    broker,
    app: undefined as unknown as FastifyInstance,
    baseUrl: '',
    mqttUrl,
    async token(role) {
      const known = tokens.get(role);
      if (known) return known;
      const username = role === 'admin' ? 'admin' : `test-${role}`;
      const password = role === 'admin' ? ADMIN_PASSWORD : USER_PASSWORD;
      if (role !== 'admin' && !stack.app.services.users.find(username)) await stack.app.services.users.create({ username, role, password });
      const response = await fetch(`${stack.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
      if (!response.ok) throw new Error(`login as ${role} failed: ${response.status} ${await response.text()}`);
      const { token } = (await response.json()) as { token: string };
      tokens.set(role, token);
      return token;
    },
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.role) headers.authorization = `Bearer ${await stack.token(options.role)}`;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      return fetch(`${stack.baseUrl}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    },
    async provision(id, kind, lon, lat, attributes) {
      const { secret } = await registry.add({ id, kind, lon, lat, attributes, actor: 'test' });
      stack.app.services.live.syncRegistry(stack.app.services.registry.list());
      return secret;
    },
    async device(id, secret) {
      const client = await mqtt.connectAsync(mqttUrl, { clientId: id, username: id, password: secret, reconnectPeriod: 0, clean: true });
      clients.push(client);
      return client;
    },
    async publish(client, channel, payload) {
      await client.publishAsync(deviceTopic(client.options.clientId as string, channel), JSON.stringify(payload), { qos: 1 });
    },
    async stream(role = 'viewer', follow = {}) {
      const query = new URLSearchParams({ access_token: await stack.token(role), ...follow });
      const socket = new WebSocket(`${stack.baseUrl.replace('http', 'ws')}/api/v1/stream?${query}`);
      sockets.push(socket);
      const messages: Record<string, unknown>[] = [];
      const waiters = new Set<{ match: (message: Record<string, unknown>) => boolean; resolve: (message: Record<string, unknown>) => void }>();
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as Record<string, unknown>;
        messages.push(message);
        for (const waiter of waiters) {
          if (!waiter.match(message)) continue;
          waiters.delete(waiter);
          waiter.resolve(message);
        }
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
        socket.once('unexpected-response', (request, response) => {
          request.destroy();
          reject(new Error(`stream refused: ${response.statusCode}`));
        });
      });
      return {
        messages,
        next(match, timeoutMs = 5000) {
          const found = messages.find(match);
          if (found) return Promise.resolve(found);
          return new Promise((resolve, reject) => {
            const waiter = { match, resolve };
            waiters.add(waiter);
            setTimeout(() => {
              if (waiters.delete(waiter)) reject(new Error(`no matching stream message within ${timeoutMs} ms (${messages.length} received)`));
            }, timeoutMs).unref();
          });
        },
        close: () => socket.close(),
      };
    },
    query: (q) => influxQuery(influx.url, 'city', q),
    async restartApp() {
      await stack.app.close();
      tokens.clear();
      await listen();
    },
    async close() {
      for (const socket of sockets) socket.terminate();
      await Promise.all(clients.map((client) => client.endAsync().catch(() => undefined)));
      await (stack.app as FastifyInstance | undefined)?.close();
      await ingest.close();
      await broker.close();
      registry.close();
      await influx.stop();
      dir.cleanup();
    },
  };
  const listen = async () => {
    stack.app = await buildApp(config, logger);
    await stack.app.listen({ host: '127.0.0.1', port: 0 });
    const address = stack.app.server.address() as { port: number };
    stack.baseUrl = `http://127.0.0.1:${address.port}`;
    await stack.app.services.restored;
  };
  try {
    await listen();
  } catch (error) {
    // An api that fails to start must not leave the stack's InfluxDB, broker and ingest running after the test.
    await stack.close().catch(() => undefined);
    throw error;
  }
  return stack;
}
