import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@city/platform';
import { buildApp } from '../src/app.js';
import { readApiConfig } from '../src/config.js';

// Stand-ins that answer on real sockets; the full stack's health is exercised by the api's own issue.
let influxLike: Server;
let brokerLike: Server;

beforeAll(async () => {
  influxLike = createServer((_request, response) => response.writeHead(204).end());
  brokerLike = createServer();
  await Promise.all([influxLike, brokerLike].map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))));
});

afterAll(() => {
  influxLike.close();
  brokerLike.close();
});

const port = (server: Server) => (server.address() as AddressInfo).port;

describe('GET /api/v1/health', () => {
  it('answers 200 when the broker and InfluxDB answer', async () => {
    const app = await buildApp(readApiConfig({ MQTT_URL: `mqtt://127.0.0.1:${port(brokerLike)}`, INFLUX_URL: `http://127.0.0.1:${port(influxLike)}` }), createLogger('test', 'silent'));
    const response = await app.inject('/api/v1/health');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'up', components: { broker: 'up', influxdb: 'up' } });
    await app.close();
  });

  it('answers 503 naming what is down', async () => {
    const app = await buildApp(readApiConfig({ MQTT_URL: 'mqtt://127.0.0.1:1', INFLUX_URL: `http://127.0.0.1:${port(influxLike)}` }), createLogger('test', 'silent'));
    const response = await app.inject('/api/v1/health');
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'down', components: { broker: 'down', influxdb: 'up' } });
    await app.close();
  });
});
