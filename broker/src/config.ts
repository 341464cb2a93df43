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
  BROKER_METRICS_PORT: Port(9101),
  METRICS_HOST: Type.String({ default: '127.0.0.1' }),
});

export type BrokerConfig = Static<typeof BrokerConfigSchema>;

export function readBrokerConfig(env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  return readConfig(BrokerConfigSchema, env);
}
