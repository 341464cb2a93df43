/**
 * Authentication and role checks for every route. Each route declares `config.access`; the app refuses
 * to start with one that does not (bar the few plugins add, listed below), so no route is ever open by omission.
 * The token comes in `Authorization: Bearer …`, or as `access_token` in the query for the WebSocket
 * (browsers cannot set headers on it; request logs strip it).
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import { hasRole, type Access, type AuthUser } from './roles.js';
import type { SessionStore } from './sessions.js';

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+([A-Za-z0-9_-]{20,200})$/.exec(header);
    return match?.[1];
  }
  const query = request.query as Record<string, unknown> | undefined;
  const token = query?.access_token;
  return typeof token === 'string' && /^[A-Za-z0-9_-]{20,200}$/.test(token) ? token : undefined;
}

/**
 * Routes that plugins add without a say in their options, all public by nature: the API reference
 * (swagger-ui), the console's static files (its built assets apart) and CORS preflights. Every other route must declare its access.
 */
const PLUGIN_ROUTES = [/^\/docs(\/|$)/, /^\/\*?$/, /^\/assets\/\*?$/, /^\*$/];

export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every /api route and who may call it, for the docs and for the test that walks them all. */
    routeAccess: RouteAccess[];
  }
}

export const authPlugin = fp<{ sessions: SessionStore }>(async (app: FastifyInstance, { sessions }) => {
  app.decorateRequest('user', null);
  app.decorate('routeAccess', []);

  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (access === undefined) {
      if (!route.url.startsWith('/api/') && PLUGIN_ROUTES.some((pattern) => pattern.test(route.url))) return;
      throw new Error(`route ${String(route.method)} ${route.url} declares no access (config.access): refusing to start with an unchecked route`);
    }
    if (!route.url.startsWith('/api/')) return;
    for (const method of [route.method].flat()) if (method !== 'HEAD') app.routeAccess.push({ method, url: route.url, access });
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === 'public') return;
    const token = bearerToken(request);
    const user: AuthUser | undefined = token ? sessions.resolve(token) : undefined;
    if (!user) throw new ApiError(401, 'unauthenticated', 'log in first: POST /api/v1/auth/login, then send Authorization: Bearer <token>');
    if (!hasRole(user.role, access)) throw new ApiError(403, 'forbidden', `this needs the ${access} role; you are ${user.role}`);
    request.user = user;
  });
});
