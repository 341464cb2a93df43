/** Listeners for the broker: MQTT over TCP, over TLS when a certificate is configured, and the metrics endpoint. */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { DeviceRegistry } from '@city/devices';
import { createMetricsRegistry, startMetricsServer, type Logger, type MetricsServer } from '@city/platform';
import type { Aedes } from 'aedes';
import type { BrokerConfig } from './config.js';
import { createDeviceBroker } from './device-broker.js';
import { ConnectThrottle } from './connect-throttle.js';
import { createBrokerMetrics } from './metrics.js';
import { guardConnection } from './packet-size-guard.js';
import { createPersistence } from './persistence.js';

export interface RunningBroker {
  broker: Aedes;
  mqttPort: number;
  mqttsPort?: number;
  metricsPort: number;
  close(): Promise<void>;
}

export async function startBroker(config: BrokerConfig, logger: Logger): Promise<RunningBroker> {
  const registry = DeviceRegistry.open(join(config.DATA_DIR, 'registry.db'));
  const metricsRegistry = createMetricsRegistry('broker');
  const metrics = createBrokerMetrics(metricsRegistry);
  const store = createPersistence(config.REDIS_URL, config.BROKER_MAX_SESSION_DELIVERY, logger);
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

  const handle = (socket: Socket) => {
    socket.setNoDelay(true);
    const guarded = guardConnection(socket, config.MQTT_MAX_PACKET_BYTES, () => {
      metrics.rejections.inc({ reason: 'packet_too_large' });
      logger.warn({ remote: socket.remoteAddress }, 'connection cut: packet over the size limit');
    });
    // The guard hides the socket from aedes; the CONNECT throttle needs to know where a guess comes from.
    broker.handle(Object.assign(guarded, { remoteAddress: socket.remoteAddress }));
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
