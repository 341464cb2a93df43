import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@city/platform';
import { startApiStack, type ApiStack } from './helpers/api-stack.js';

let stack: ApiStack;

beforeAll(async () => {
  stack = await startApiStack();
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

describe('GET /api/v1/health', () => {
  it('answers 200 while the broker, InfluxDB and the registry answer, and 503 naming InfluxDB once it is gone, while live routes keep working', async () => {
    // The api's session with the broker comes up in the background.
    await waitFor('health up', async () => (await stack.call('GET', '/api/v1/health')).status === 200, 5000);
    const up = await stack.call('GET', '/api/v1/health');
    expect(await up.json()).toEqual({ status: 'up', components: { broker: 'up', mqttSession: 'up', influxdb: 'up', registry: 'up' } });

    await stack.influx.stop();
    const down = await stack.call('GET', '/api/v1/health');
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'down', components: { broker: 'up', mqttSession: 'up', influxdb: 'down', registry: 'up' } });

    const history = await stack.call('GET', '/api/v1/history?kind=traffic&metric=intensity&zone=hai-chau', { role: 'viewer' });
    expect(history.status).toBe(503);
    expect(await history.json()).toMatchObject({ code: 'influxdb_unavailable' });
    expect((await stack.call('GET', '/api/v1/layers/traffic', { role: 'viewer' })).status).toBe(200);
  });
});

describe('GET /api/v1/health with a broken MQTT session', () => {
  let refused: ApiStack;

  beforeAll(async () => {
    // The broker answers on its port but refuses the api's credentials: nothing reaches live state.
    refused = await startApiStack({ MQTT_SERVICE_SECRET: 'not-the-service-secret-at-all' });
  }, 60_000);

  afterAll(async () => {
    await refused?.close();
  });

  it('answers 503 naming the session while the broker port is open', async () => {
    const response = await refused.call('GET', '/api/v1/health');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'down', components: { broker: 'up', mqttSession: 'down', influxdb: 'up', registry: 'up' } });
  });
});
