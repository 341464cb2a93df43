import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { REJECTION_REASONS } from '@city/devices';

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;

export function createIngestMetrics(registry: Registry) {
  const rejected = new Counter({
    name: 'ingest_readings_rejected_total',
    help: 'Readings refused, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  // Every reason appears from the start, so that a dashboard shows zeros rather than gaps.
  for (const reason of REJECTION_REASONS) rejected.inc({ reason }, 0);
  return {
    messages: new Counter({ name: 'ingest_messages_received_total', help: 'Telemetry messages received from the broker', registers: [registry] }),
    received: new Counter({ name: 'ingest_readings_received_total', help: 'Readings received (a gateway batch counts each reading)', registers: [registry] }),
    written: new Counter({ name: 'ingest_points_written_total', help: 'Points made durable (in InfluxDB or the spool)', registers: [registry] }),
    rejected,
    spoolRecords: new Gauge({ name: 'ingest_spool_records', help: 'Batches waiting in the spool for InfluxDB', registers: [registry] }),
    spoolBytes: new Gauge({ name: 'ingest_spool_bytes', help: 'Bytes waiting in the spool', registers: [registry] }),
    writeLatency: new Histogram({
      name: 'ingest_batch_persist_seconds',
      help: 'Time to make one batch durable',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'ingest_batch_lines',
      help: 'Lines per batch',
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10_000],
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'ingest_points_dead_lettered_total',
      help: 'Points InfluxDB refused as malformed, set aside in the dead-letter folder',
      registers: [registry],
    }),
    mqttConnected: new Gauge({ name: 'ingest_mqtt_subscribed', help: '1 while subscribed to the broker', registers: [registry] }),
    influxAvailable: new Gauge({ name: 'ingest_influxdb_available', help: '1 while InfluxDB takes writes', registers: [registry] }),
    pendingAcks: new Gauge({ name: 'ingest_pending_acks', help: 'Messages received but not yet acknowledged to the broker', registers: [registry] }),
    spoolFull: new Gauge({ name: 'ingest_spool_full', help: '1 while the spool refuses batches (SPOOL_MAX_BYTES reached) and acknowledgements are held', registers: [registry] }),
    spoolRefused: new Counter({
      name: 'ingest_spool_refused_batches_total',
      help: 'Attempts to spool a batch that the full spool refused (a batch retried counts again)',
      registers: [registry],
    }),
    lateRollups: new Counter({ name: 'ingest_late_rollups_total', help: 'Hour ranges rolled up again because late readings were written into them', registers: [registry] }),
    lateRollupPendingHours: new Gauge({
      name: 'ingest_late_rollup_pending_hours',
      help: 'Hours (per measurement) holding late readings that are not rolled up yet',
      registers: [registry],
    }),
  };
}
