import { Type, type Static } from '@sinclair/typebox';
import { readConfig } from '@city/platform';

export const IngestConfigSchema = Type.Object({
  DATA_DIR: Type.String({ default: './data' }),
  MQTT_URL: Type.String({ pattern: '^mqtts?://', default: 'mqtt://127.0.0.1:1883' }),
  MQTT_SERVICE_SECRET: Type.String({ minLength: 16 }),
  INGEST_CLIENT_ID: Type.String({ pattern: '^service:ingest', default: 'service:ingest' }),
  INGEST_MAX_UNACKED: Type.Integer({ minimum: 100, default: 50_000 }),
  INFLUX_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8086' }),
  INFLUX_DB: Type.String({ pattern: '^[A-Za-z0-9_-]+$', default: 'city' }),
  INFLUX_USERNAME: Type.Optional(Type.String()),
  INFLUX_PASSWORD: Type.Optional(Type.String()),
  INFLUX_TOKEN: Type.Optional(Type.String()),
  INFLUX_ORG: Type.Optional(Type.String()),
  INFLUX_BUCKET: Type.Optional(Type.String()),
  BATCH_MAX_LINES: Type.Integer({ minimum: 1, maximum: 100_000, default: 5000 }),
  BATCH_MAX_DELAY_MS: Type.Integer({ minimum: 1, default: 1000 }),
  SPOOL_MAX_BYTES: Type.Integer({ minimum: 1024, default: 1024 ** 3 }),
  MAX_FUTURE_SECONDS: Type.Integer({ minimum: 0, default: 300 }),
  INGEST_METRICS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9102 }),
  METRICS_HOST: Type.String({ default: '127.0.0.1' }),
});

export type IngestConfig = Static<typeof IngestConfigSchema>;

export function readIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  return readConfig(IngestConfigSchema, env);
}
