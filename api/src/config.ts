import { Type, type Static } from '@sinclair/typebox';
import { readConfig } from '@city/platform';

export const ApiConfigSchema = Type.Object({
  HTTP_HOST: Type.String({ default: '0.0.0.0' }),
  HTTP_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  MQTT_URL: Type.String({ pattern: '^mqtts?://', default: 'mqtt://127.0.0.1:1883' }),
  INFLUX_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8086' }),
});

export type ApiConfig = Static<typeof ApiConfigSchema>;

export function readApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return readConfig(ApiConfigSchema, env);
}
