/**
 * The live stream answers only a live session: no, forged, expired or revoked tokens are refused at the
 * upgrade, and a socket already open is closed (4401) when its session ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { waitFor } from '@city/platform';
import { SESSION_ENDED } from '../../src/stream/session-guard.js';
import { startApiStack, type ApiStack } from '../helpers/api-stack.js';

/** Sessions end after 6 s in all, so that expiry can be watched. */
const MAX_AGE_MS = 6_000;
const PASSWORD = 'stream-test-password-1';
let stack: ApiStack;

beforeAll(async () => {
  stack = await startApiStack({ SESSION_MAX_HOURS: String(MAX_AGE_MS / 3_600_000), STREAM_SESSION_CHECK_SECONDS: '0.2', LOGINS_PER_MINUTE: '1000' });
  for (const username of ['watcher', 'leaver', 'disabled', 'expiring']) await stack.app.services.users.create({ username, role: 'viewer', password: PASSWORD });
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

async function login(username: string): Promise<string> {
  const response = await stack.call('POST', '/api/v1/auth/login', { body: { username, password: PASSWORD } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

type Upgrade = { status: number; socket?: WebSocket; closed?: Promise<{ code: number; reason: string }> };

function open(token?: string, via: 'query' | 'header' = 'query'): Promise<Upgrade> {
  const url = `${stack.baseUrl.replace('http', 'ws')}/api/v1/stream${token && via === 'query' ? `?access_token=${token}` : ''}`;
  const socket = new WebSocket(url, token && via === 'header' ? { headers: { authorization: `Bearer ${token}` } } : {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return new Promise((resolve) => {
    socket.once('unexpected-response', (request, response) => {
      request.destroy();
      resolve({ status: response.statusCode ?? 0 });
    });
    socket.once('open', () => resolve({ status: 101, socket, closed }));
  });
}

describe('stream authentication', () => {
  it('refuses an upgrade with no token, a forged one or a malformed one', async () => {
    expect((await open()).status).toBe(401);
    expect((await open('A'.repeat(43))).status).toBe(401);
    expect((await open('A'.repeat(43), 'header')).status).toBe(401);
    expect((await open('not a token')).status).toBe(401);
  });

  it('opens with a live token, in the query or the header', async () => {
    const token = await login('watcher');
    for (const via of ['query', 'header'] as const) {
      const upgrade = await open(token, via);
      expect(upgrade.status).toBe(101);
      upgrade.socket?.close();
    }
  });

  it('closes an open stream at logout, and refuses its token afterwards', async () => {
    const token = await login('leaver');
    const upgrade = await open(token);
    expect(upgrade.status).toBe(101);
    expect((await stack.call('POST', '/api/v1/auth/logout', { headers: { authorization: `Bearer ${token}` } })).status).toBe(204);
    expect(await upgrade.closed).toEqual({ code: SESSION_ENDED, reason: expect.stringContaining('session ended') });
    expect((await open(token)).status).toBe(401);
  });

  it('closes the streams of a user an admin disables, and leaves the others open', async () => {
    const token = await login('disabled');
    const bystander = await open(await login('watcher'));
    const upgrade = await open(token);
    expect((await stack.call('PATCH', '/api/v1/users/disabled', { role: 'admin', body: { disabled: true } })).status).toBe(200);
    expect((await upgrade.closed)?.code).toBe(SESSION_ENDED);
    expect((await open(token)).status).toBe(401);
    expect(bystander.socket?.readyState).toBe(WebSocket.OPEN);
    bystander.socket?.close();
  });

  it('closes an open stream when its session expires, and refuses the expired token', async () => {
    const token = await login('expiring');
    const upgrade = await open(token);
    expect(upgrade.status).toBe(101);
    const closed = await upgrade.closed;
    expect(closed?.code).toBe(SESSION_ENDED);
    await waitFor('the expired token to be refused', async () => (await stack.call('GET', '/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })).status === 401, 2_000);
    expect((await open(token)).status).toBe(401);
  }, MAX_AGE_MS + 10_000);
});
