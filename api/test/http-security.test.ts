/**
 * HTTP hardening on the real api: security headers on every answer, CORS only for the configured
 * origins, and request size limits answered in the api's error shape.
 */
import { connect } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@city/platform';
import { BODY_LIMIT_BYTES } from '../src/app.js';
import { readApiConfig } from '../src/config.js';
import { httpSecurity } from '../src/http-security.js';
import { startApiStack, type ApiStack } from './helpers/api-stack.js';

const ALLOWED = 'https://wall.example.org';
let stack: ApiStack;

beforeAll(async () => {
  stack = await startApiStack({ CORS_ORIGINS: `${ALLOWED}, http://10.0.0.5:3000` });
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const errorShape = { statusCode: expect.any(Number), error: expect.any(String), code: expect.any(String), message: expect.any(String) };

describe('security headers', () => {
  it('come with the console, the api and its errors', async () => {
    for (const [path, status] of [['/', 200], ['/api/v1/health', undefined], ['/api/v1/devices', 401], ['/api/v1/nothing', 404]] as const) {
      const response = await fetch(`${stack.baseUrl}${path}`);
      if (status !== undefined) expect(response.status, path).toBe(status);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("worker-src 'self' blob:");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("object-src 'none'");
      expect(csp, path).not.toContain('upgrade-insecure-requests');
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(response.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(response.headers.get('strict-transport-security'), path).toMatch(/max-age=\d+/);
      expect(response.headers.get('cross-origin-opener-policy'), path).toBe('same-origin');
      expect(response.headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it('give the API reference its own policy, which works over plain HTTP', async () => {
    const response = await fetch(`${stack.baseUrl}/docs/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(response.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
  });
});

describe('CORS', () => {
  it('answers a configured origin, on a call and a preflight, without credentials', async () => {
    const call = await fetch(`${stack.baseUrl}/api/v1/health`, { headers: { origin: ALLOWED } });
    expect(call.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(call.headers.get('access-control-allow-credentials')).toBeNull();
    expect(call.headers.get('vary')).toMatch(/origin/i);
    const preflight = await fetch(`${stack.baseUrl}/api/v1/incidents`, {
      method: 'OPTIONS',
      headers: { origin: 'http://10.0.0.5:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://10.0.0.5:3000');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('gives any other origin no CORS headers, so its browser keeps the answer from it', async () => {
    for (const origin of ['https://evil.example.com', 'https://wall.example.org.evil.com', 'null']) {
      const call = await fetch(`${stack.baseUrl}/api/v1/health`, { headers: { origin } });
      expect(call.headers.get('access-control-allow-origin'), origin).toBeNull();
      const preflight = await fetch(`${stack.baseUrl}/api/v1/devices`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
      expect(preflight.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(preflight.headers.get('access-control-allow-methods'), origin).toBeNull();
    }
  });

  it('allows no origin at all by default', async () => {
    const app = Fastify();
    await app.register(httpSecurity, { corsOrigins: [] });
    app.get('/ping', async () => 'pong');
    const response = await app.inject({ url: '/ping', headers: { origin: ALLOWED } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    await app.close();
  });

  it('refuses to start with an origin that is not one', () => {
    for (const value of ['*', 'wall.example.org', 'https://wall.example.org/path', 'https://a.org;https://b.org']) {
      expect(() => readApiConfig({ MQTT_SERVICE_SECRET: 'x'.repeat(16), CORS_ORIGINS: value }), value).toThrow(ConfigError);
    }
    expect(readApiConfig({ MQTT_SERVICE_SECRET: 'x'.repeat(16), CORS_ORIGINS: 'https://a.org, http://10.0.0.5:3000' }).CORS_ORIGINS).toBeTruthy();
  });
});

describe('request size limits', () => {
  it('answers a body over the limit with 413 in the api\'s error shape', async () => {
    const body = JSON.stringify({ id: 'dn-big', kind: 'noise', lon: 108.2, lat: 16.05, attributes: { blob: 'x'.repeat(BODY_LIMIT_BYTES) } });
    const response = await fetch(`${stack.baseUrl}/api/v1/devices`, { method: 'POST', headers: { authorization: `Bearer ${await stack.token('admin')}`, 'content-type': 'application/json' }, body });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ ...errorShape, statusCode: 413, error: 'Payload Too Large', code: 'body_too_large', message: expect.stringContaining(String(BODY_LIMIT_BYTES)) });
  });

  it('reads no more than a login needs on the public login route', async () => {
    const response = await stack.call('POST', '/api/v1/auth/login', { body: { username: 'admin', password: 'p'.repeat(5000) } });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ statusCode: 413, code: 'body_too_large', message: expect.stringContaining('4096') });
  });

  it('refuses headers and URLs beyond what the server reads', async () => {
    // A raw socket: the server answers as soon as it has read too much and hangs up, while an HTTP client would still be writing.
    const status = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string }>((resolve) => {
        const socket = connect(Number(new URL(stack.baseUrl).port), '127.0.0.1');
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0), body: answer.slice(answer.indexOf('\r\n\r\n') + 4) }));
        const lines = [`GET ${path} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
        socket.end(`${lines.join('\r\n')}\r\n\r\n`);
      });
    for (const answer of [await status('/api/v1/health', { 'x-padding': 'x'.repeat(20_000) }), await status(`/api/v1/devices?zone=${'x'.repeat(20_000)}`)]) {
      expect(answer.status).toBe(431);
      expect(JSON.parse(answer.body)).toEqual({ ...errorShape, statusCode: 431, code: 'headers_too_large' });
    }
    const longParam = await fetch(`${stack.baseUrl}/api/v1/devices/${'x'.repeat(200)}`);
    expect(longParam.status).toBe(404);
    expect(await longParam.json()).toMatchObject({ code: 'not_found' });
  });
});
