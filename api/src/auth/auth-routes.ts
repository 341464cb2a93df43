/** Login, logout and who-am-I. Logins are limited per address (rate limiter) and per account (throttle). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import rateLimit from '@fastify/rate-limit';
import type { AuditLog } from '../audit.js';
import { ApiError, ErrorResponse } from '../errors.js';
import { bearerToken } from './auth-plugin.js';
import type { LoginThrottle } from './login-throttle.js';
import { ROLES } from './roles.js';
import type { SessionStore } from './sessions.js';
import type { UserStore } from './users.js';

export interface AuthRoutesDeps {
  users: UserStore;
  sessions: SessionStore;
  throttle: LoginThrottle;
  audit: AuditLog;
  /** Login attempts per minute from one address. */
  loginsPerMinute: number;
}

const RoleSchema = Type.Union(ROLES.map((role) => Type.Literal(role)));
export const Me = Type.Object({ username: Type.String(), role: RoleSchema });

export function authRoutes(deps: AuthRoutesDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    await app.register(rateLimit, {
      global: false,
      // The plugin's own answer has no `code`; give the one error shape. It sets Retry-After itself.
      errorResponseBuilder: (_request, context) =>
        new ApiError(429, 'rate_limited', `too many logins from this address; try again in ${Math.ceil(context.ttl / 1000)} s`),
    });

    app.post(
      '/api/v1/auth/login',
      {
        config: { access: 'public', rateLimit: { max: deps.loginsPerMinute, timeWindow: 60_000 } },
        // Anyone may call it, so it reads no more than a login needs (a 256-character password, JSON-escaped).
        bodyLimit: 4096,
        schema: {
          tags: ['auth'],
          summary: 'Log in: exchange a username and password for a bearer token',
          body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) }),
          response: {
            200: Type.Object({ token: Type.String(), expiresAt: Type.Integer({ description: 'epoch ms' }), user: Me }),
            401: ErrorResponse,
            429: ErrorResponse,
          },
        },
      },
      async (request, reply) => {
        const { username, password } = request.body;
        const wait = deps.throttle.retryAfter(username);
        if (wait > 0) {
          void reply.header('retry-after', Math.ceil(wait / 1000));
          throw new ApiError(429, 'too_many_attempts', `too many failed logins for this account; try again in ${Math.ceil(wait / 1000)} s`);
        }
        const user = await deps.users.verify(username, password);
        if (!user) {
          deps.throttle.fail(username);
          request.log.warn({ username: username.slice(0, 64), ip: request.ip }, 'login failed');
          throw new ApiError(401, 'bad_credentials', 'wrong username or password');
        }
        deps.throttle.succeed(username);
        const { token, expiresAt } = deps.sessions.issue(user.username);
        deps.audit.record(user.username, 'auth.login', user.username, { ip: request.ip });
        return { token, expiresAt, user };
      },
    );

    app.post(
      '/api/v1/auth/logout',
      { config: { access: 'viewer' }, schema: { tags: ['auth'], summary: 'End this token', response: { 204: Type.Null({ description: 'The token no longer works' }) } } },
      async (request, reply) => {
        const token = bearerToken(request);
        if (token) deps.sessions.revoke(token);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/v1/auth/me',
      { config: { access: 'viewer' }, schema: { tags: ['auth'], summary: 'Who this token belongs to', response: { 200: Me } } },
      async (request) => request.user as NonNullable<typeof request.user>,
    );
  };
}
