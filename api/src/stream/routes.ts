/**
 * `GET /api/v1/stream`: the live WebSocket. Authenticated like every route (a browser passes its token
 * as `?access_token=`), it sends `{"type":"snapshot",...}` and then `{"type":"delta",...}` at most once a second, and is closed
 * (code 4401) when its session ends.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import websocket from '@fastify/websocket';
import { bearerToken } from '../auth/auth-plugin.js';
import { badRequest, ErrorResponse } from '../errors.js';
import { StreamDelta, StreamSnapshot } from './messages.js';
import type { StreamSessionGuard } from './session-guard.js';
import { StreamQuery, streamFilter, unknownKindsMessage } from './stream-filter.js';
import type { StreamHub, StreamIncident } from './stream-hub.js';

export function streamRoutes(hub: StreamHub<StreamIncident>, guard: StreamSessionGuard): FastifyPluginAsync {
  return async (app) => {
    await app.register(websocket, { options: { maxPayload: 4096 } });
    // A refused upgrade (no or a bad token) is answered on a socket the HTTP server no longer tracks:
    // left open, each one would hold a file descriptor for good.
    app.addHook('onResponse', async (request, reply) => {
      if (request.headers.upgrade && reply.statusCode !== 101) request.raw.socket.destroy();
    });
    app.get<{ Querystring: StreamQuery }>(
      '/api/v1/stream',
      {
        websocket: true,
        preValidation: async (request) => {
          const unknownKinds = unknownKindsMessage(request.query.kinds);
          if (unknownKinds) throw badRequest('invalid_input', unknownKinds);
        },
        config: {
          access: 'viewer',
          // @fastify/websocket hides its routes from the OpenAPI document; this one is part of the api.
          swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, hide: false }, url }),
        },
        schema: {
          tags: ['map'],
          summary: 'Live WebSocket: a snapshot, then coalesced deltas at most once per second',
          description:
            'Open with a WebSocket upgrade (GET with Upgrade: websocket). The server sends JSON text messages: first a `snapshot`, then a `delta` ' +
            'at most once a second holding only what changed. Clients only listen. Pass the token as Authorization: Bearer or ?access_token= ' +
            '(browsers cannot set headers on a WebSocket). Dead connections are dropped by a 30 s ping. ' +
            '`devices`, `zones` and `kinds` narrow the stream to part of the city (criteria given together must all hold): only those devices, ' +
            'their road segments and the incidents about them are sent, and a change of a device followed alone reaches the client as soon as it ' +
            'arrives unless the client had a message less than a second before.',
          querystring: StreamQuery,
          response: {
            101: Type.Union([StreamSnapshot, StreamDelta], { description: 'Switching Protocols; then the messages described here, each a JSON text frame' }),
            401: ErrorResponse,
            403: ErrorResponse,
          },
        },
      },
      (socket, request) => {
        // The auth hook let the upgrade through, so the request carries a token that resolved.
        guard.watch(socket, bearerToken(request) as string);
        hub.add(socket, streamFilter(request.query));
      },
    );
  };
}
