/**
 * Security headers and CORS for every answer. The Content-Security-Policy is the narrowest the built
 * console works under: maplibre starts its workers from blob: URLs, sets inline styles, and reads images
 * from data: and blob: URLs; fonts ship with the console, so nothing is fetched from another origin.
 * CORS is off unless CORS_ORIGINS names origins: the console is served from the api's own origin and
 * needs none, and tokens travel in a header, never a cookie, so no credentials are ever allowed.
 */
import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'", 'data:'],
  'worker-src': ["'self'", 'blob:'],
  'child-src': ["'self'", 'blob:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

export function parseOrigins(list: string): string[] {
  return list
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
}

export const httpSecurity = fp<{ corsOrigins: string[] }>(async (app: FastifyInstance, { corsOrigins }) => {
  await app.register(helmet, {
    // Only these directives: helmet's defaults add upgrade-insecure-requests, which breaks a console opened over plain HTTP on the LAN.
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
  });
  const allowed = new Set(corsOrigins);
  await app.register(cors, {
    // A function rather than the list: for an origin not on it, the plugin then adds no CORS header at all.
    origin: allowed.size > 0 ? (origin, callback) => callback(null, origin !== undefined && allowed.has(origin) ? origin : false) : false,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type'],
    exposedHeaders: ['retry-after', 'content-disposition'],
    credentials: false,
    maxAge: 600,
  });
});
