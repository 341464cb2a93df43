/**
 * Walks every /api route the app registers, with no token and with each role: a route answers only
 * the roles at or above the one it declares, and the OpenAPI document lists exactly these routes, each with its success answer.
 */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { authPlugin } from '../../src/auth/auth-plugin.js';
import type { SessionStore } from '../../src/auth/sessions.js';
import { ROLES, hasRole, type Role } from '../../src/auth/roles.js';
import { startApiStack, type ApiStack } from '../helpers/api-stack.js';

let stack: ApiStack;

beforeAll(async () => {
  stack = await startApiStack();
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, 'x-test');

/** The status a WebSocket upgrade of the stream gets: 101 when it opens. */
function upgrade(query: string): Promise<number> {
  return new Promise<number>((resolve) => {
    const socket = new WebSocket(`${stack.baseUrl.replace('http', 'ws')}/api/v1/stream${query}`);
    socket.once('unexpected-response', (request, response) => {
      request.destroy();
      resolve(response.statusCode ?? 0);
    });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
  });
}

describe('access to every route', () => {
  it('lists every /api route in the OpenAPI document, each with its access', async () => {
    const document = (await (await stack.call('GET', '/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/api/'))
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
    const registered = stack.app.routeAccess.map((route) => `${route.method} ${route.url}`);
    expect(documented.sort()).toEqual([...new Set(registered)].sort());
    expect(registered).toContain('GET /api/v1/stream');
    const undeclared = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/api/'))
      .flatMap(([path, operations]) => Object.entries(operations as Record<string, { responses?: Record<string, { content?: unknown }> }>).map(([method, operation]) => ({ path, method, operation })))
      // Without a schema the generator still writes a bare 200 ("Default Response"): a success answer must have content, or be a 204.
      .filter(({ operation }) => !Object.entries(operation.responses ?? {}).some(([status, answer]) => status === '204' || (/^(101|2\d\d)$/.test(status) && answer.content !== undefined)))
      .map(({ path, method }) => `${method.toUpperCase()} ${path}`);
    expect(undeclared, 'operations without a success response schema').toEqual([]);
    expect(registered.length).toBeGreaterThan(20);
  });

  it('refuses to start with a route that declares no access, inside /api or out', async () => {
    const build = async (url: string, config: Record<string, unknown> = {}) => {
      const app = Fastify();
      await app.register(authPlugin, { sessions: {} as SessionStore });
      try {
        app.get(url, { config }, async () => 'ok');
        await app.ready();
        return 'started';
      } catch (error) {
        return (error as Error).message;
      } finally {
        await app.close();
      }
    };
    expect(await build('/api/v1/new-thing')).toMatch(/declares no access/);
    expect(await build('/internal/reset')).toMatch(/declares no access/);
    expect(await build('/internal/reset', { access: 'admin' })).toBe('started');
    expect(await build('/docs/extra')).toBe('started');
  });

  it('refuses a call without a token on every route that is not public', async () => {
    for (const route of stack.app.routeAccess) {
      const response = await stack.call(route.method, concrete(route.url), { body: route.method === 'GET' || route.method === 'DELETE' ? undefined : {} });
      if (route.access === 'public') {
        expect(response.status, `${route.method} ${route.url}`).not.toBe(401);
      } else {
        expect(response.status, `${route.method} ${route.url}`).toBe(401);
        expect(((await response.json()) as { code: string }).code).toBe('unauthenticated');
        // Fastify answers HEAD for every GET route with the GET route's options: the same check must hold.
        if (route.method === 'GET' && route.url !== '/api/v1/stream') expect((await stack.call('HEAD', concrete(route.url))).status, `HEAD ${route.url}`).toBe(401);
      }
    }
  });

  it('lets each role do exactly what it should', async () => {
    for (const role of ROLES) {
      for (const route of stack.app.routeAccess) {
        if (route.access === 'public' || route.url === '/api/v1/auth/logout') continue;
        const status =
          route.url === '/api/v1/stream'
            ? await upgrade(`?access_token=${await stack.token(role)}`)
            : (await stack.call(route.method, concrete(route.url), { role, body: route.method === 'GET' || route.method === 'DELETE' ? undefined : {} })).status;
        const allowed = hasRole(role, route.access as Role);
        const label = `${role} ${route.method} ${route.url} → ${status}`;
        if (allowed) expect([401, 403], label).not.toContain(status);
        else expect(status, label).toBe(403);
      }
    }
  });

  it('refuses a forged or ended token', async () => {
    expect((await stack.call('GET', '/api/v1/devices', { headers: { authorization: `Bearer ${'A'.repeat(43)}` } })).status).toBe(401);
    const login = await stack.call('POST', '/api/v1/auth/login', { body: { username: 'admin', password: 'admin-test-password-1' } });
    const { token } = (await login.json()) as { token: string };
    const headers = { authorization: `Bearer ${token}` };
    expect((await stack.call('GET', '/api/v1/auth/me', { headers })).status).toBe(200);
    expect((await stack.call('POST', '/api/v1/auth/logout', { headers })).status).toBe(204);
    expect((await stack.call('GET', '/api/v1/auth/me', { headers })).status).toBe(401);
  });

  it('refuses the WebSocket stream without a valid token', async () => {
    for (const query of ['', `?access_token=${'A'.repeat(43)}`]) expect(await upgrade(query)).toBe(401);
    const stream = await stack.stream('viewer');
    const snapshot = await stream.next((message) => message.type === 'snapshot');
    expect(Array.isArray(snapshot.devices)).toBe(true);
    stream.close();
  });
});
