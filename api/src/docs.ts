/** OpenAPI 3 at `/openapi.json`, generated from the routes' own schemas, and an interactive reference at `/docs`. */
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { ErrorResponse } from './errors.js';

export const docsRoutes = fp(async (app: FastifyInstance) => {
  app.addSchema(ErrorResponse);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'City operations API',
        version: '1.0.0',
        description:
          'Live state, map layers, incidents, history and devices of the city operations platform. Log in with POST /api/v1/auth/login and send the token as `Authorization: Bearer <token>`. ' +
          'Roles, each including the one before: viewer (map and data), operator (+ incidents), planner (+ history export), admin (+ users and devices). ' +
          'Every error has the shape {statusCode, error, code, message}. ' +
          'Live updates: a WebSocket at GET /api/v1/stream (token as Authorization: Bearer or ?access_token=) sends {"type":"snapshot",...} and then {"type":"delta",...} at most once a second.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // Its policy would send a browser on plain HTTP (the api on the LAN) to https:// for the reference's own files.
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });
  app.get('/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, async () => app.swagger());
});
