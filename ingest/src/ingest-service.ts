/** Composes the ingest service: broker session → telemetry handler → batcher → durable sink. */
import { join } from 'node:path';
import { DeviceRegistry, ALL_TELEMETRY, DEFAULT_MAX_AGE_MS } from '@city/devices';
import { createMetricsRegistry, startMetricsServer, type Logger } from '@city/platform';
import { AliveMark } from './alive-mark.js';
import { Batcher } from './batcher.js';
import { ClockReference } from './clock-reference.js';
import type { IngestConfig } from './config.js';
import { DeviceDirectory } from './device-directory.js';
import { DurableSink } from './durable-sink.js';
import { createInfluxWriter } from './influx-writer.js';
import { LateRollups, notingLateReadings } from './late-rollups.js';
import { createIngestMetrics } from './metrics.js';
import { MqttSession } from './mqtt-session.js';
import { RejectionReporter } from './rejection-reporter.js';
import { Spool } from './spool.js';
import { ensureStorageLayout, runRollups } from './storage-setup.js';
import { createTelemetryHandler } from './telemetry-handler.js';

export interface RunningIngest {
  metricsPort: number;
  close(): Promise<void>;
}

export async function startIngest(config: IngestConfig, logger: Logger): Promise<RunningIngest> {
  const metricsRegistry = createMetricsRegistry('ingest');
  const metrics = createIngestMetrics(metricsRegistry);
  const registry = DeviceRegistry.open(join(config.DATA_DIR, 'registry.db'));
  // 2.x/3.x: downsampling is a task of the server's own, so there is nothing to roll up here.
  const lateRollups = config.INFLUX_TOKEN
    ? undefined
    : new LateRollups({
        stateFile: join(config.DATA_DIR, 'late-rollups.json'),
        intervalMs: config.LATE_ROLLUP_INTERVAL_MS,
        maxHoursPerTick: config.LATE_ROLLUP_MAX_HOURS,
        rollUp: (kind, range) => runRollups(config, range.fromMs, range.toMs, [kind]),
        logger,
        metrics,
      });
  const influxWriter = createInfluxWriter(config);
  const writer = lateRollups ? notingLateReadings(influxWriter, lateRollups) : influxWriter;
  const spool = await Spool.open(join(config.DATA_DIR, 'spool'), { maxBytes: config.SPOOL_MAX_BYTES });
  const sink = new DurableSink({ writer, spool, deadLetterDir: join(config.DATA_DIR, 'dead-letter'), logger, metrics });

  const session = new MqttSession({
    ...brokerAddress(config.MQTT_URL),
    clientId: config.INGEST_CLIENT_ID,
    username: 'service:ingest',
    password: config.MQTT_SERVICE_SECRET,
    subscriptions: [{ topic: ALL_TELEMETRY, qos: 1 }],
    maxUnacked: config.INGEST_MAX_UNACKED,
    keepaliveSeconds: config.INGEST_KEEPALIVE_SECONDS,
    logger,
  });
  const batcher = new Batcher({
    maxLines: config.BATCH_MAX_LINES,
    maxDelayMs: config.BATCH_MAX_DELAY_MS,
    maxInFlight: 2,
    persist: (body, oldestTs) => sink.persist(body, oldestTs),
    logger,
    onPersisted: ({ lines, durationMs }) => {
      metrics.written.inc(lines);
      metrics.batchSize.observe(lines);
      metrics.writeLatency.observe(durationMs / 1000);
    },
  });
  const reporter = new RejectionReporter({ counter: metrics.rejected, logger, notify: (topic, payload) => session.publish(topic, payload) });
  const maxFutureMs = config.MAX_FUTURE_SECONDS * 1000;
  const aliveMark = new AliveMark(join(config.DATA_DIR, 'ingest-alive'));
  const clock = new ClockReference(config.MAX_CLOCK_BEHIND_SECONDS * 1000, aliveMark.previous());
  aliveMark.start(() => clock.lastArrivalAt);
  session.on(
    'message',
    createTelemetryHandler({
      directory: new DeviceDirectory(registry),
      batcher,
      reporter,
      metrics,
      clock,
      timeWindow: (now) => ({ now, maxFutureMs, maxAgeMs: DEFAULT_MAX_AGE_MS }),
    }),
  );
  // Only a kept session redelivers what was not acknowledged (QoS 0 readings among the dropped are lost, as QoS 0 allows).
  session.on('connected', ({ sessionPresent }) => {
    if (!sessionPresent) return;
    const dropped = batcher.discardPending();
    if (dropped > 0) logger.warn({ lines: dropped }, 'reconnected: dropped the readings not durable yet, which the broker delivers again');
  });
  session.on('subscribed', () => {
    metrics.mqttConnected.set(1);
    logger.info('subscribed to device telemetry');
  });
  session.on('disconnected', () => {
    metrics.mqttConnected.set(0);
    logger.warn('lost the broker; reconnecting');
  });
  const gauges = setInterval(() => {
    metrics.pendingAcks.set(session.pendingAcks);
    metrics.influxAvailable.set(sink.influxAvailable ? 1 : 0);
  }, 1000);
  gauges.unref();

  await ensureLayoutWhenReachable(config, logger);
  sink.start();
  lateRollups?.start();
  session.start();
  const metricsServer = await startMetricsServer(metricsRegistry, config.INGEST_METRICS_PORT, config.METRICS_HOST);
  logger.info({ metricsPort: metricsServer.port, influx: config.INFLUX_URL, db: config.INFLUX_DB }, 'ingest running');

  return {
    metricsPort: metricsServer.port,
    async close() {
      clearInterval(gauges);
      aliveMark.stop();
      await batcher.close();
      await session.close();
      await sink.close();
      await lateRollups?.close();
      await spool.close();
      await writer.close();
      await metricsServer.close();
      registry.close();
    },
  };
}

/** Creating the layout needs InfluxDB; ingest still starts without it and spools until it is there. */
async function ensureLayoutWhenReachable(config: IngestConfig, logger: Logger): Promise<void> {
  try {
    await ensureStorageLayout(config, logger);
  } catch (error) {
    logger.error({ err: (error as Error).message }, 'could not create the InfluxDB layout yet; will retry');
    const retry = setInterval(() => {
      ensureStorageLayout(config, logger).then(() => clearInterval(retry), () => undefined);
    }, 5000);
    retry.unref();
  }
}

function brokerAddress(url: string): { host: string; port: number; tls?: object } {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'mqtts:';
  return { host: parsed.hostname, port: Number(parsed.port) || (secure ? 8883 : 1883), ...(secure ? { tls: {} } : {}) };
}
