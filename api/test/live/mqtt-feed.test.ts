import { createServer, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { createLogger, waitFor } from '@city/platform';
import { LiveState } from '../../src/live/live-state.js';
import { startMqttFeed } from '../../src/live/mqtt-feed.js';
import { RoadNetwork } from '../../src/live/road-network.js';

const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A broker that accepts the connection and then stops answering: no SUBACK, and it never closes the socket. */
async function silentBroker(): Promise<{ url: string; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.once('data', () => socket.write(CONNACK));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`, sockets };
}

it('stops within its grace period when the broker never acknowledges the subscription nor closes the session', async () => {
  const broker = await silentBroker();
  const live = new LiveState({ roads: new RoadNetwork([]), floodThresholds: () => undefined });
  const feed = startMqttFeed({ url: broker.url, serviceSecret: 'secret', live, logger: createLogger('test', 'silent'), endGraceMs: 300 });
  await waitFor('the feed connected', () => feed.connected, 5000);

  const started = performance.now();
  await feed.close();
  expect(performance.now() - started).toBeLessThan(3000);
  await waitFor('the broker saw the connection cut', () => broker.sockets.every((socket) => socket.readableEnded || socket.destroyed), 5000);
});
