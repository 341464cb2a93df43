import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    const up = await stack.call('GET', '/api/v1/health');
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: 'up', components: { broker: 'up', influxdb: 'up', registry: 'up' } });

    await stack.influx.stop();
    const down = await stack.call('GET', '/api/v1/health');
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'down', components: { broker: 'up', influxdb: 'down', registry: 'up' } });

    const history = await stack.call('GET', '/api/v1/history?kind=traffic&metric=intensity&zone=hai-chau', { role: 'viewer' });
    expect(history.status).toBe(503);
    expect(await history.json()).toMatchObject({ code: 'influxdb_unavailable' });
    expect((await stack.call('GET', '/api/v1/layers/traffic', { role: 'viewer' })).status).toBe(200);
  });
});
