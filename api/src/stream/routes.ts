/**
 * `GET /api/v1/stream`: the live WebSocket. Authenticated like every route (a browser passes its token
 * as `?access_token=`), it sends `{"type":"snapshot",...}` and then `{"type":"delta",...}` at most once a second.
 */
import type { FastifyPluginAsync } from 'fastify';
import websocket from '@fastify/websocket';
import type { StreamHub } from './stream-hub.js';

export function streamRoutes(hub: StreamHub<{ id: string }>): FastifyPluginAsync {
  return async (app) => {
    await app.register(websocket, { options: { maxPayload: 4096 } });
    // A refused upgrade (no or a bad token) is answered on a socket the HTTP server no longer tracks:
    // left open, each one would hold a file descriptor for good.
    app.addHook('onResponse', async (request, reply) => {
      if (request.headers.upgrade && reply.statusCode !== 101) request.raw.socket.destroy();
    });
    app.get(
      '/api/v1/stream',
      {
        websocket: true,
        config: { access: 'viewer' },
        schema: {
          tags: ['map'],
          summary: 'Live WebSocket: a snapshot, then coalesced deltas at most once per second',
          description:
            'Messages: {"type":"snapshot","ts","devices":[...],"segments":{id: state},"incidents":[...]} then {"type":"delta","ts","devices":[changed],"removed":[ids],"segments":{changed},"incidents":[changed]}. ' +
            'Pass the token as Authorization: Bearer or ?access_token=.',
        },
      },
      (socket) => hub.add(socket),
    );
  };
}
