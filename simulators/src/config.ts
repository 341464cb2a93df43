import { Type, type Static } from '@sinclair/typebox';
import { readConfig } from '@city/platform';

export const SimConfigSchema = Type.Object({
  DATA_DIR: Type.String({ default: './data' }),
  MQTT_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 1883 }),
  MQTT_URL: Type.Optional(Type.String({ pattern: '^mqtts?://' })),
  INFLUX_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8086' }),
  INFLUX_DB: Type.String({ default: 'city' }),
  SIM_CONTROL_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9103 }),
  SIM_SEED: Type.Integer({ default: 2025 }),
  /** How fast the demo fleet's clock runs when `--speed` is not given (what `npm start` uses). */
  DEMO_SPEED: Type.Number({ minimum: 1, maximum: 3600, default: 1 }),
  DEMO_BACKFILL_DAYS: Type.Integer({ minimum: 0, maximum: 30, default: 7 }),
  DEMO_HISTORY_MONTHS: Type.Integer({ minimum: 0, maximum: 120, default: 6 }),
});

export type SimConfig = Static<typeof SimConfigSchema> & { mqttUrl: string };

export function readSimConfig(env: NodeJS.ProcessEnv = process.env): SimConfig {
  const config = readConfig(SimConfigSchema, env);
  return { ...config, mqttUrl: config.MQTT_URL ?? `mqtt://127.0.0.1:${config.MQTT_PORT}` };
}
