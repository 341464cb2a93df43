import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startApiStack, type ApiStack } from '../helpers/api-stack.js';

let stack: ApiStack;

beforeAll(async () => {
  stack = await startApiStack({ LOGINS_PER_MINUTE: '1000' });
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const login = (username: string, password: string) => stack.call('POST', '/api/v1/auth/login', { body: { username, password } });

describe('login', () => {
  it('gives the first admin a token with ADMIN_PASSWORD and nothing for a wrong or default password', async () => {
    const ok = await login('admin', ADMIN_PASSWORD);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { user: unknown }).user).toEqual({ username: 'admin', role: 'admin' });
    for (const guess of ['admin', 'password', '', 'changeme']) {
      const response = await login('admin', guess);
      expect([400, 401]).toContain(response.status);
    }
    const unknown = await login('nobody', ADMIN_PASSWORD);
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ statusCode: 401, code: 'bad_credentials' });
  });

  it('locks an account for a while after repeated failures, even for the right password', async () => {
    await stack.app.services.users.create({ username: 'guessed', role: 'viewer', password: 'a-long-password-1' });
    for (let attempt = 0; attempt < 5; attempt += 1) expect((await login('guessed', `wrong-${attempt}`)).status).toBe(401);
    const locked = await login('guessed', 'a-long-password-1');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await login('admin', ADMIN_PASSWORD)).status).toBe(200);
  });

  it('names the field of a malformed login', async () => {
    const response = await stack.call('POST', '/api/v1/auth/login', { body: { username: 'admin' } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('password') });
  });

  it('records user changes with who and when, and a role change ends the sessions', async () => {
    const created = await stack.call('POST', '/api/v1/users', { role: 'admin', body: { username: 'linh', role: 'operator', password: 'operator-pass-1' } });
    expect(created.status).toBe(201);
    const { token } = (await (await login('linh', 'operator-pass-1')).json()) as { token: string };
    expect((await stack.call('GET', '/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await stack.call('PATCH', '/api/v1/users/linh', { role: 'admin', body: { role: 'viewer' } })).status).toBe(200);
    expect((await stack.call('GET', '/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    const audit = (await (await stack.call('GET', '/api/v1/audit', { role: 'admin' })).json()) as { actor: string; action: string; target: string; at: number }[];
    expect(audit.find((entry) => entry.action === 'user.create' && entry.target === 'linh')).toMatchObject({ actor: 'admin' });
    expect(audit.find((entry) => entry.action === 'user.update' && entry.target === 'linh')).toMatchObject({ actor: 'admin', detail: { role: 'viewer' } });
  });
});
