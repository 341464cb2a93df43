import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '@city/platform';
import type { ApiConfig } from './config.js';
import { healthRoutes } from './health.js';

export async function buildApp(config: ApiConfig, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
  await app.register(healthRoutes({ mqttUrl: config.MQTT_URL, influxUrl: config.INFLUX_URL }));
  return app;
}
