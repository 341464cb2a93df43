import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, readConfig } from '@city/platform';

export const IngestConfigSchema = Type.Object({
  DATA_DIR: Type.String({ default: './data' }),
  MQTT_URL: Type.String({ pattern: '^mqtts?://', default: 'mqtt://127.0.0.1:1883' }),
  MQTT_SERVICE_SECRET: Type.String({ minLength: 16 }),
  INGEST_CLIENT_ID: Type.String({ pattern: '^service:ingest', default: 'service:ingest' }),
  INGEST_MAX_UNACKED: Type.Integer({ minimum: 100, default: 50_000 }),
  INGEST_KEEPALIVE_SECONDS: Type.Integer({ minimum: 1, maximum: 65535, default: 30 }),
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
  LATE_ROLLUP_INTERVAL_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  LATE_ROLLUP_MAX_HOURS: Type.Integer({ minimum: 1, default: 24 }),
  MAX_FUTURE_SECONDS: Type.Integer({ minimum: 0, default: 300 }),
  MAX_CLOCK_BEHIND_SECONDS: Type.Integer({ minimum: 60, default: 900 }),
  INGEST_METRICS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9102 }),
  METRICS_HOST: Type.String({ default: '127.0.0.1' }),
});

export type IngestConfig = Static<typeof IngestConfigSchema>;

const INFLUX_V2_SETTINGS = ['INFLUX_TOKEN', 'INFLUX_ORG', 'INFLUX_BUCKET'] as const;

export function readIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const config = readConfig(IngestConfigSchema, env);
  // With only some of them, writes would quietly go to 1.x's /write and miss the intended bucket.
  const missing = INFLUX_V2_SETTINGS.filter((name) => !config[name]);
  if (missing.length > 0 && missing.length < INFLUX_V2_SETTINGS.length) {
    throw new ConfigError(
      `invalid configuration:\n  ${missing.join(', ')}: missing; InfluxDB 2.x/3.x needs INFLUX_TOKEN, INFLUX_ORG and INFLUX_BUCKET together (leave all three unset for 1.x)`,
    );
  }
  return config;
}
