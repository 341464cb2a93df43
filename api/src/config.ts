import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { readConfig } from '@city/platform';

const repoFile = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

export const ApiConfigSchema = Type.Object({
  DATA_DIR: Type.String({ default: './data' }),
  HTTP_HOST: Type.String({ default: '0.0.0.0' }),
  HTTP_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  MQTT_URL: Type.String({ pattern: '^mqtts?://', default: 'mqtt://127.0.0.1:1883' }),
  MQTT_SERVICE_SECRET: Type.String({ minLength: 16 }),
  INFLUX_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8086' }),
  INFLUX_DB: Type.String({ default: 'city' }),
  INFLUX_USERNAME: Type.Optional(Type.String()),
  INFLUX_PASSWORD: Type.Optional(Type.String()),
  INFLUX_TOKEN: Type.Optional(Type.String()),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 10 })),
  /** Hours a token may sit unused, and hours it lives at most. */
  SESSION_IDLE_HOURS: Type.Number({ exclusiveMinimum: 0, default: 12 }),
  SESSION_MAX_HOURS: Type.Number({ exclusiveMinimum: 0, default: 24 }),
  /** How often open streams are checked against their sessions' expiry (revocations close them at once). */
  STREAM_SESSION_CHECK_SECONDS: Type.Number({ minimum: 0.1, default: 30 }),
  LOGINS_PER_MINUTE: Type.Integer({ minimum: 1, default: 10 }),
  RULES_FILE: Type.String({ default: repoFile('api/config/rules.json') }),
  ROADS_FILE: Type.String({ default: repoFile('simulators/data/roads.geojson') }),
  ZONES_FILE: Type.Optional(Type.String()),
  WEB_DIR: Type.String({ default: repoFile('web/dist') }),
  HISTORY_MAX_POINTS: Type.Integer({ minimum: 1000, default: 100_000 }),
  /** Origins allowed to call the api from a browser, comma-separated (`https://wall.example.org,http://10.0.0.5:3000`); empty: only the console it serves. */
  CORS_ORIGINS: Type.String({ default: '', pattern: '^(\\s*https?://[^/,\\s]+\\s*(,\\s*https?://[^/,\\s]+\\s*)*)?$' }),
});

export type ApiConfig = Static<typeof ApiConfigSchema>;

export function readApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return readConfig(ApiConfigSchema, env);
}
