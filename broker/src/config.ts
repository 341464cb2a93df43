import { Type, type Static } from '@sinclair/typebox';
import { readConfig } from '@city/platform';

const Port = (fallback: number) => Type.Integer({ minimum: 0, maximum: 65535, default: fallback });

export const BrokerConfigSchema = Type.Object({
  DATA_DIR: Type.String({ default: './data' }),
  MQTT_HOST: Type.String({ default: '0.0.0.0' }),
  MQTT_PORT: Port(1883),
  MQTTS_PORT: Port(8883),
  MQTT_TLS_CERT: Type.Optional(Type.String()),
  MQTT_TLS_KEY: Type.Optional(Type.String()),
  MQTT_SERVICE_SECRET: Type.String({ minLength: 16 }),
  MQTT_MAX_PACKET_BYTES: Type.Integer({ minimum: 1024, default: 65_536 }),
  MQTT_MAX_QUEUED_BYTES: Type.Integer({ minimum: 65_536, default: 8 * 1024 * 1024 }),
  MQTT_STALL_MS: Type.Integer({ minimum: 100, default: 2000 }),
  DEVICE_RATE_LIMIT: Type.Number({ exclusiveMinimum: 0, default: 10 }),
  DEVICE_RATE_BURST: Type.Integer({ minimum: 1, default: 100 }),
  MAX_ACL_VIOLATIONS: Type.Integer({ minimum: 1, default: 10 }),
  BROKER_CONCURRENCY: Type.Integer({ minimum: 1, default: 100 }),
  BROKER_DRAIN_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 30_000 }),
  REVOCATION_SWEEP_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  /** Failed CONNECTs before a device id, or a source address, is refused for a back-off that doubles up to its maximum. */
  CONNECT_FREE_FAILURES_PER_DEVICE: Type.Integer({ minimum: 1, default: 5 }),
  CONNECT_BACKOFF_MAX_DEVICE_SECONDS: Type.Number({ exclusiveMinimum: 0, default: 60 }),
  CONNECT_FREE_FAILURES_PER_ADDRESS: Type.Integer({ minimum: 1, default: 20 }),
  CONNECT_BACKOFF_MAX_ADDRESS_SECONDS: Type.Number({ exclusiveMinimum: 0, default: 900 }),
  /** Comma-separated addresses never refused as a whole (the platform's own services); `none` for none. */
  CONNECT_TRUSTED_ADDRESSES: Type.String({ default: '127.0.0.1,::1,::ffff:127.0.0.1' }),
  /**
   * Where sessions, retained messages and undelivered QoS 1 messages are kept: `file`, a write-ahead log in DATA_DIR
   * (the default), or `memory`, lost when the broker stops. REDIS_URL, when set, puts them in Redis instead.
   */
  BROKER_STORE: Type.Union([Type.Literal('file'), Type.Literal('memory')], { default: 'file' }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  /**
   * Queued messages a persistent session (ingest's) gets when it reconnects: the Redis store delivers only this many
   * of its queue then, the rest at its next reconnect. Far above what ingest holds unacknowledged, so that a
   * restart's backlog is delivered whole.
   */
  BROKER_MAX_SESSION_DELIVERY: Type.Integer({ minimum: 1, default: 1_000_000 }),
  BROKER_METRICS_PORT: Port(9101),
  METRICS_HOST: Type.String({ default: '127.0.0.1' }),
});

export type BrokerConfig = Static<typeof BrokerConfigSchema>;

export function readBrokerConfig(env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  return readConfig(BrokerConfigSchema, env);
}
