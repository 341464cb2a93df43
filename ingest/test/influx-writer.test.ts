import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, startInfluxd, type LocalInfluxd, influxQuery } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import { PermanentWriteError, TransientWriteError, V1Writer, V2Writer, createInfluxWriter } from '../src/influx-writer.js';

describe('V1Writer against a real InfluxDB', () => {
  let dir: ReturnType<typeof tempDir>;
  let influx: LocalInfluxd;

  beforeAll(async () => {
    dir = tempDir('city-writer-');
    influx = await startInfluxd({ dataDir: dir.path, httpPort: 0, logger: createLogger('test', 'silent') });
    await influxQuery(influx.url, undefined, 'CREATE DATABASE "w"');
    await influxQuery(influx.url, 'w', 'CREATE RETENTION POLICY "raw" ON "w" DURATION 0s REPLICATION 1 DEFAULT');
  });

  afterAll(async () => {
    await influx?.stop();
    dir?.cleanup();
  });

  it('writes, refuses a malformed batch permanently, and reports an unreachable server as transient', async () => {
    const writer = new V1Writer({ url: influx.url, db: 'w', rp: 'raw' });
    await writer.write(['m,device_id=a v=1 1000', 'm,device_id=a v=2 2000']);
    expect((await influxQuery(influx.url, 'w', 'SELECT count(v) FROM m'))[0]?.count).toBe(2);
    await expect(writer.write(['this is not line protocol'])).rejects.toBeInstanceOf(PermanentWriteError);
    await expect(new V1Writer({ url: influx.url, db: 'missing', rp: 'raw' }).write(['m v=1 1'])).rejects.toBeInstanceOf(TransientWriteError);
    await influx.stop();
    await expect(writer.write(['m,device_id=a v=3 3000'])).rejects.toBeInstanceOf(TransientWriteError);
    expect(await writer.ping()).toBe(false);
    await influx.restart();
    expect(await writer.ping()).toBe(true);
  });
});

describe('V1Writer error classification', () => {
  let reply: (response: ServerResponse) => void = () => {};
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => reply(response));
  });
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('spools on 429 and on a timeout, and passes InfluxDB\'s reason on for a refused batch', async () => {
    const writer = new V1Writer({ url, db: 'city', rp: 'raw', timeoutMs: 200 });
    reply = (response) => response.writeHead(429).end('{"error":"slow down"}');
    await expect(writer.write(['m v=1 1'])).rejects.toBeInstanceOf(TransientWriteError);
    reply = () => {};
    const started = performance.now();
    await expect(writer.write(['m v=1 1'])).rejects.toBeInstanceOf(TransientWriteError);
    expect(performance.now() - started).toBeLessThan(2000);
    reply = (response) => response.writeHead(400).end('{"error":"partial write: field type conflict"}');
    await expect(writer.write(['m v=1 1'])).rejects.toThrow(/400.*field type conflict/);
  });
});

/** InfluxDB 1.6.7 has no /api/v2, so the 2.x writer is checked against what it sends (a contract test). */
describe('V2Writer request contract', () => {
  const received: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  let status = 204;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ url: request.url ?? '', headers: request.headers, body });
      response.writeHead(status, { 'content-type': 'application/json' }).end(status === 204 ? undefined : JSON.stringify({ code: 'invalid', message: 'bad line' }));
    });
  });
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.close();
  });

  it('posts the lines to /api/v2/write with org, bucket, ms precision and the token', async () => {
    const writer = createInfluxWriter({ INFLUX_URL: url, INFLUX_DB: 'city', INFLUX_TOKEN: 'tok', INFLUX_ORG: 'danang', INFLUX_BUCKET: 'city/raw' });
    expect(writer).toBeInstanceOf(V2Writer);
    await writer.write(['m,device_id=a v=1 1000', 'm,device_id=a v=2 2000']);
    const request = received.at(-1);
    const target = new URL(request?.url ?? '', url);
    expect(target.pathname).toBe('/api/v2/write');
    expect(target.searchParams.get('org')).toBe('danang');
    expect(target.searchParams.get('bucket')).toBe('city/raw');
    expect(target.searchParams.get('precision')).toBe('ms');
    expect(request?.headers.authorization).toBe('Token tok');
    expect(request?.body.trim().split('\n')).toEqual(['m,device_id=a v=1 1000', 'm,device_id=a v=2 2000']);

    status = 400;
    await expect(writer.write(['bad'])).rejects.toBeInstanceOf(PermanentWriteError);
    status = 503;
    await expect(writer.write(['m v=1 1'])).rejects.toBeInstanceOf(TransientWriteError);
    await writer.close();
  });
});
