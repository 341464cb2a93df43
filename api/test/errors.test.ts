/**
 * The one error shape for what the routes themselves do not answer: malformed JSON, enum fields, and the
 * per-address login limiter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAYERS } from '../src/layers/features.js';
import { ADMIN_PASSWORD, startApiStack, type ApiStack } from './helpers/api-stack.js';

const LOGINS_PER_MINUTE = 4;
let stack: ApiStack;

beforeAll(async () => {
  stack = await startApiStack({ LOGINS_PER_MINUTE: String(LOGINS_PER_MINUTE) });
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

interface ErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
}

describe('error answers', () => {
  it('answers malformed JSON with 400 invalid_json', async () => {
    const response = await fetch(`${stack.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username": "admin",' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'invalid_json' });
  });

  it.each([
    ['a layer name', '/api/v1/layers/rivers', 'layer', LAYERS],
    ['a device kind', '/api/v1/devices?kind=bus', 'kind', ['traffic', 'air_quality', 'noise', 'water_level', 'parking', 'streetlight']],
    ['a history kind', '/api/v1/history?kind=bus&metric=pm25&zone=hai-chau', 'kind', ['traffic', 'air_quality']],
    ['a history aggregate', '/api/v1/history?kind=air_quality&metric=pm25&zone=hai-chau&agg=median', 'agg', ['mean', 'min', 'max', 'count', 'p95']],
  ])('names the field of %s and lists its values once', async (_, path, field, values) => {
    const response = await stack.call('GET', path, { role: 'viewer' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.code).toBe('invalid_input');
    expect(body.message).toContain(`${field} must be one of ${values[0]}`);
    for (const value of values) expect(body.message.split(value).length - 1, `${value} in ${body.message}`).toBe(1);
    expect(body.message).not.toContain('constant');
  });

  it('answers logins past the per-address limit with 429 rate_limited and Retry-After', async () => {
    const login = () => stack.call('POST', '/api/v1/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    let response = await login();
    for (let attempt = 0; attempt < LOGINS_PER_MINUTE && response.status !== 429; attempt += 1) response = await login();
    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests', code: 'rate_limited', message: expect.stringContaining('address') });
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
