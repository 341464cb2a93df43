import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '@city/broker';
import { readBrokerConfig } from '@city/broker/config';
import { createLogger, startInfluxd, type LocalInfluxd } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import { buildApp } from '../src/app.js';
import { readApiConfig } from '../src/config.js';

const logger = createLogger('test', 'silent');
let dir: ReturnType<typeof tempDir>;
let influx: LocalInfluxd;
let broker: RunningBroker;

beforeAll(async () => {
  dir = tempDir('city-api-health-');
  influx = await startInfluxd({ dataDir: dir.path, httpPort: 0, logger });
  broker = await startBroker(
    readBrokerConfig({ DATA_DIR: dir.path, MQTT_HOST: '127.0.0.1', MQTT_PORT: '0', BROKER_METRICS_PORT: '0', MQTT_SERVICE_SECRET: randomBytes(24).toString('hex') }),
    logger,
  );
});

afterAll(async () => {
  await broker?.close();
  await influx?.stop();
  dir?.cleanup();
});

describe('GET /api/v1/health', () => {
  it('answers 200 while the broker and InfluxDB answer, and 503 naming InfluxDB once it is gone', async () => {
    const app = await buildApp(readApiConfig({ MQTT_URL: `mqtt://127.0.0.1:${broker.mqttPort}`, INFLUX_URL: influx.url }), logger);
    const up = await app.inject('/api/v1/health');
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ status: 'up', components: { broker: 'up', influxdb: 'up' } });

    await influx.stop();
    const down = await app.inject('/api/v1/health');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ status: 'down', components: { broker: 'up', influxdb: 'down' } });
    await app.close();
  });
});
