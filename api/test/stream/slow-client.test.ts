/**
 * A stream client that stops reading must cost the server a bounded amount, not a growing queue, and get the
 * latest state once it reads again, while the other clients go on as before. Filling the kernel's socket
 * buffers takes megabytes a second, more than a test fleet publishes through the broker, so this drives the
 * hub itself on a real WebSocket server with a city of large synthetic readings and a faster pace.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { waitFor } from '@city/platform';
import type { LiveDevice } from '../../src/live/types.js';
import { StreamHub } from '../../src/stream/stream-hub.js';

const DEVICES = 1000;
const INTERVAL_MS = 100;
const SLOW_CLIENT_BYTES = 256 * 1024;

interface Reading {
  version: number;
}

const city = new Map<string, LiveDevice>();
for (let i = 0; i < DEVICES; i += 1) {
  const id = `synthetic-${i}`;
  city.set(id, {
    id, kind: 'streetlight', name: null, zone: 'hai-chau', lon: 108.2, lat: 16.06, attributes: {}, segment: undefined,
    presence: 'online', presenceSince: 0, lastSeen: 0, readingTs: 0, derived: {},
    reading: { version: 0, powerState: 'on', illuminanceLevel: 0.8, powerConsumption: 120, padding: 'x'.repeat(300) },
  });
}

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(hub: StreamHub<{ id: string }>): Promise<{ url: string; sockets: WebSocket[] }> {
  const server: Server = createServer();
  const wss = new WebSocketServer({ server });
  const sockets: WebSocket[] = [];
  wss.on('connection', (socket) => {
    sockets.push(socket);
    hub.add(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `ws://127.0.0.1:${(server.address() as { port: number }).port}`, sockets };
}

/** A client that parses only what it needs: the highest version of any device in each message. */
async function connect(url: string): Promise<{ socket: WebSocket; versions: number[] }> {
  const socket = new WebSocket(url);
  const versions: number[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { devices: { reading: Reading }[] };
    versions.push(Math.max(...message.devices.map((device) => device.reading.version)));
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  cleanups.push(() => socket.terminate());
  return { socket, versions };
}

describe('a stream client that cannot keep up', () => {
  it('is skipped with a bounded backlog, others keep receiving, and it gets the latest state once it drains', async () => {
    const hub = new StreamHub({ devices: () => city.values(), device: (id) => city.get(id), segments: () => [], segment: () => undefined, incidents: () => [] }, { intervalMs: INTERVAL_MS, slowClientBytes: SLOW_CLIENT_BYTES });
    cleanups.push(() => hub.close());
    const { url, sockets } = await serve(hub);
    const fast = await connect(url);
    const slow = await connect(url);
    await waitFor('both snapshots', () => fast.versions.length === 1 && slow.versions.length === 1, 5000);
    const slowOnServer = sockets[1];
    if (!slowOnServer) throw new Error('the server has no second socket');
    slow.socket.pause();

    // Every device changes every 20 ms: each delta is about half a megabyte.
    let version = 0;
    const change = setInterval(() => {
      version += 1;
      for (const device of city.values()) {
        (device.reading as unknown as Reading).version = version;
        hub.deviceChanged(device, 'reading');
      }
    }, 20);
    cleanups.push(() => clearInterval(change));

    let largestBacklog = 0;
    const fastBefore = fast.versions.length;
    await waitFor('the slow client skipped for many checks', () => {
      largestBacklog = Math.max(largestBacklog, slowOnServer.bufferedAmount);
      return hub.stats.ticksSkipped >= 50;
    }, 30_000, 10);
    largestBacklog = Math.max(largestBacklog, slowOnServer.bufferedAmount);
    const message = JSON.stringify({ devices: [...city.values()] }).length;
    // Sent until past the threshold, then nothing more: at most one message beyond it, however long it stalls.
    expect(largestBacklog).toBeGreaterThan(SLOW_CLIENT_BYTES);
    expect(largestBacklog).toBeLessThanOrEqual(SLOW_CLIENT_BYTES + message);
    expect(hub.stats.pendingMax).toBeLessThanOrEqual(DEVICES);
    expect(fast.versions.length - fastBefore).toBeGreaterThanOrEqual(5);

    clearInterval(change);
    const last = version;
    await waitFor('the fast client has the latest', () => fast.versions.at(-1) === last, 5000);
    slow.socket.resume();
    await waitFor('the slow client drained and has the latest', () => slow.versions.at(-1) === last, 10_000);
  }, 60_000);
});
