/** Listeners for the broker: MQTT over TCP, over TLS when a certificate is configured, and the metrics endpoint. */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { DeviceRegistry } from '@city/devices';
import { createMetricsRegistry, startMetricsServer, type Logger, type MetricsServer } from '@city/platform';
import type { Aedes, Client } from 'aedes';
import type { MQEmitter } from 'mqemitter';
import type { BrokerConfig } from './config.js';
import { createDeviceBroker } from './device-broker.js';
import { ConnectThrottle } from './connect-throttle.js';
import { connectionErrorReason } from './connection-errors.js';
import { createBrokerMetrics } from './metrics.js';
import { warmPacketCaches } from './packet-caches.js';
import { guardConnection } from './packet-size-guard.js';
import { createPersistence } from './persistence.js';
import { acknowledgeAfterStoring } from './acknowledge-after-store.js';
import { InputGate } from './input-gate.js';
import { createLeanPublish } from './lean-publish.js';
import { deliverLean } from './lean-delivery.js';
import { indexedStoreOf } from './memory-persistence.js';
import { deliverInAnyOrder } from './delivery-order.js';
import { backlogOf } from './message-queue.js';

/** Messages waiting for a delivery slot past which clients are not read: a few turns' worth of the bus's work. */
const BUS_BACKLOG_LIMIT = 1000;

export interface RunningBroker {
  broker: Aedes;
  mqttPort: number;
  mqttsPort?: number;
  metricsPort: number;
  close(): Promise<void>;
}

export async function startBroker(config: BrokerConfig, logger: Logger): Promise<RunningBroker> {
  warmPacketCaches();
  const registry = DeviceRegistry.open(join(config.DATA_DIR, 'registry.db'));
  const metricsRegistry = createMetricsRegistry('broker');
  const metrics = createBrokerMetrics(metricsRegistry);
  const store = await createPersistence(config, logger);
  const broker = await createDeviceBroker({
    registry,
    serviceSecret: config.MQTT_SERVICE_SECRET,
    metrics,
    logger,
    deviceRateLimit: config.DEVICE_RATE_LIMIT,
    deviceRateBurst: config.DEVICE_RATE_BURST,
    maxAclViolations: config.MAX_ACL_VIOLATIONS,
    concurrency: config.BROKER_CONCURRENCY,
    drainTimeoutMs: config.BROKER_DRAIN_TIMEOUT_MS,
    revocationSweepMs: config.REVOCATION_SWEEP_MS,
    connectThrottle: new ConnectThrottle({
      perDevice: { freeFailures: config.CONNECT_FREE_FAILURES_PER_DEVICE, baseDelayMs: 1000, maxDelayMs: config.CONNECT_BACKOFF_MAX_DEVICE_SECONDS * 1000 },
      perAddress: { freeFailures: config.CONNECT_FREE_FAILURES_PER_ADDRESS, baseDelayMs: 1000, maxDelayMs: config.CONNECT_BACKOFF_MAX_ADDRESS_SECONDS * 1000 },
      trustedAddresses: new Set(config.CONNECT_TRUSTED_ADDRESSES.split(',').map((address) => address.trim()).filter((address) => address && address !== 'none')),
    }),
    persistence: store.persistence,
  });
  const authorizePublish = broker.authorizePublish;
  const acknowledgements = acknowledgeAfterStoring(broker);
  // Redis answers asynchronously, and from other brokers too: the lean paths are for the store in this process.
  const indexed = store.inProcess ? indexedStoreOf((broker as unknown as { persistence: unknown }).persistence) : undefined;
  const lean = indexed ? createLeanPublish(broker, indexed, authorizePublish, acknowledgements.storing) : undefined;
  const bus = (broker as unknown as { mq: MQEmitter }).mq;
  const gate = new InputGate(() => backlogOf(bus), BUS_BACKLOG_LIMIT);

  // One reason per connection: bytes that both end mid-packet and fail to parse are one hostile connection, not two.
  // Hostile bytes are logged at debug: under attack they come by the thousand, and the counter is what an operator
  // watches. A client cut for not reading is rare and may be one of the platform's own services, so it is a warning.
  const remotes = new WeakMap<object, string | undefined>();
  const rejected = new WeakSet<object>();
  const rejectConnection = (connection: object, reason: string) => {
    if (rejected.has(connection)) return;
    rejected.add(connection);
    metrics.rejections.inc({ reason });
    const level = reason === 'slow_consumer' ? 'warn' : 'debug';
    logger[level]({ remote: remotes.get(connection), reason }, 'connection rejected');
  };
  const onConnectionError = (client: Client, error: Error) => {
    const reason = connectionErrorReason(error);
    if (reason) rejectConnection(client.conn, reason);
  };
  broker.on('connectionError', onConnectionError);
  broker.on('clientError', onConnectionError);

  const handle = (socket: Socket) => {
    socket.setNoDelay(true);
    const limits = { maxPacketBytes: config.MQTT_MAX_PACKET_BYTES, maxQueuedBytes: config.MQTT_MAX_QUEUED_BYTES, stallMs: config.MQTT_STALL_MS };
    const connection = guardConnection(socket, limits, (reason) => rejectConnection(connection, reason), gate, lean);
    remotes.set(connection, socket.remoteAddress);
    const client = broker.handle(connection);
    deliverInAnyOrder(broker, client);
    if (indexed) deliverLean(broker, client, indexed, connection.writeFrame);
  };

  const servers: Server[] = [];
  const mqtt = createServer(handle);
  servers.push(mqtt);
  const mqttPort = await listen(mqtt, config.MQTT_PORT, config.MQTT_HOST);

  let mqttsPort: number | undefined;
  if (config.MQTT_TLS_CERT && config.MQTT_TLS_KEY) {
    const tls = createTlsServer({ cert: readFileSync(config.MQTT_TLS_CERT), key: readFileSync(config.MQTT_TLS_KEY) }, handle);
    servers.push(tls);
    mqttsPort = await listen(tls, config.MQTTS_PORT, config.MQTT_HOST);
  }
  const metricsServer: MetricsServer = await startMetricsServer(metricsRegistry, config.BROKER_METRICS_PORT, config.METRICS_HOST);

  return {
    broker,
    mqttPort,
    ...(mqttsPort === undefined ? {} : { mqttsPort }),
    metricsPort: metricsServer.port,
    async close() {
      // Stop accepting first; the listeners finish closing once aedes has closed every client.
      const listenersClosed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await Promise.all(listenersClosed);
      await store.close();
      await metricsServer.close();
      registry.close();
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
