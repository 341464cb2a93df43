import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError } from 'aedes';
import { afterEach, describe, it, expect } from 'vitest';
import { ConnectionRefusedError, DeviceClient, reconnectDelay, type DeviceClientOptions } from '../../src/sdk/device-client.js';
import { MAX_BATCH_READINGS, MAX_PAYLOAD_BYTES } from '../../src/topics.js';

const ID = 'dn-traffic-042';
const SECRET = 'correct-horse-battery-staple';

interface Message {
  topic: string;
  payload: string;
}

interface TestBroker {
  port: number;
  /** Everything published under devices/, in arrival order. */
  messages: Message[];
  authAttempts: number;
  /** The secret the broker accepts; changing it is what a rotation does. */
  secret: string;
  publish(topic: string, payload: unknown): Promise<void>;
  /** Cuts every connection, as a network failure would, while the broker keeps running. */
  dropConnections(): void;
  close(): Promise<void>;
}

interface BrokerOptions {
  holdPublishes?: boolean;
  tls?: { key: Buffer; cert: Buffer };
}

/**
 * A plain aedes broker that knows one device, standing in for the platform's broker. With
 * `holdPublishes`, it never acknowledges telemetry: the device sees a PUBACK that never comes.
 */
async function startBroker(port = 0, options: BrokerOptions = {}): Promise<TestBroker> {
  const state = { authAttempts: 0, secret: SECRET };
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      state.authAttempts++;
      if (client.id === ID && username === ID && password?.toString() === state.secret) return done(null, true);
      done(Object.assign(new Error('bad credentials'), { returnCode: 4 }) as AuthenticateError, false);
    },
    authorizePublish: (_client, _packet, callback) => {
      if (!options.holdPublishes) callback(null);
    },
  });
  const messages: Message[] = [];
  await new Promise<void>((resolve) =>
    broker.subscribe(
      'devices/#',
      (packet, done) => {
        messages.push({ topic: packet.topic, payload: packet.payload.toString() });
        done();
      },
      resolve,
    ),
  );
  const sockets = new Set<Socket>();
  const accept = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  };
  const server: Server = options.tls ? createTlsServer(options.tls, accept) : createServer(accept);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    messages,
    get authAttempts() {
      return state.authAttempts;
    },
    get secret() {
      return state.secret;
    },
    set secret(secret: string) {
      state.secret = secret;
    },
    dropConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    publish: (topic, payload) =>
      new Promise((resolve, reject) =>
        broker.publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(payload)), qos: 1, retain: false, dup: false }, (error) =>
          error ? reject(error) : resolve(),
        ),
      ),
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port that nothing listens on, for a broker that is down from the start. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function broker(port?: number, options?: BrokerOptions): Promise<TestBroker> {
  const started = await startBroker(port, options);
  let closed = false;
  const close = started.close;
  started.close = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  cleanup.push(started.close);
  return started;
}

function device(port: number, options: Partial<DeviceClientOptions> = {}): DeviceClient {
  const client = new DeviceClient({ url: `mqtt://127.0.0.1:${port}`, deviceId: ID, secret: SECRET, minReconnectMs: 10, maxReconnectMs: 100, ...options });
  cleanup.push(() => client.close());
  return client;
}

/** Telemetry readings as the broker received them, batches flattened. */
function readings(messages: Message[]): Array<Record<string, unknown>> {
  return messages
    .filter((message) => message.topic === `devices/${ID}/telemetry`)
    .flatMap((message) => {
      const parsed = JSON.parse(message.payload) as Record<string, unknown> | Array<Record<string, unknown>>;
      return Array.isArray(parsed) ? parsed : [parsed];
    });
}

const reading = (intensity: number) => ({ intensity, averageVehicleSpeed: 30, occupancy: 0.2 });

describe('DeviceClient', () => {
  it('connects as its device id and resolves a publish at the PUBACK, with the time of production', async () => {
    const server = await broker();
    const client = device(server.port);
    await client.connect();
    expect(client.state).toBe('online');

    const before = Date.now();
    expect(await client.publishTelemetry(reading(1))).toEqual({ buffered: false });
    expect(await client.publishTelemetry({ ...reading(2), ts: '2025-06-01T07:30:00+07:00' })).toEqual({ buffered: false });
    expect(await client.publishTelemetry([reading(3), reading(4)])).toEqual({ buffered: false });

    // aedes acknowledges before it delivers to subscribers.
    await until('delivery', () => readings(server.messages).length === 4);
    const received = readings(server.messages);
    expect(received.map((r) => r.intensity)).toEqual([1, 2, 3, 4]);
    expect(received[0]?.ts).toBeGreaterThanOrEqual(before);
    expect(received[1]?.ts).toBe('2025-06-01T07:30:00+07:00');
    // Every reading carries this clock at sending, which the platform checks the clock against.
    for (const r of received) expect(r.sentAt).toBeGreaterThanOrEqual(before);
    expect(JSON.parse(server.messages[2]?.payload ?? '')).toHaveLength(2);
    expect(client.stats()).toEqual({ sent: 4, acknowledged: 4, buffered: 0, dropped: 0, reconnects: 0 });
  });

  it('publishes events and receives commands and rejection notices', async () => {
    const server = await broker();
    const client = device(server.port);
    const commands: unknown[] = [];
    const notices: unknown[] = [];
    client.onCommand((command) => commands.push(command));
    const stop = client.onError((received) => notices.push(received));
    await client.connect();

    await client.publishEvent({ type: 'accident', detail: { lanes: 2 } });
    // aedes acknowledges before it delivers to subscribers.
    await until('the event', () => server.messages.some((m) => m.topic === `devices/${ID}/events`));
    const event = JSON.parse(server.messages.find((m) => m.topic === `devices/${ID}/events`)?.payload ?? '{}') as Record<string, unknown>;
    expect(event).toMatchObject({ type: 'accident', detail: { lanes: 2 }, ts: expect.any(Number) });

    // The subscriptions are made after the CONNACK; publishing until one arrives avoids guessing when.
    await until('a command', () => {
      void server.publish(`devices/${ID}/commands`, { action: 'dim', level: 0.5 });
      return commands.length > 0;
    });
    expect(commands[0]).toEqual({ action: 'dim', level: 0.5 });

    await until('a notice', () => {
      void server.publish(`devices/${ID}/errors`, { reason: 'out_of_range', message: 'no', ts: 1 });
      return notices.length > 0;
    });
    expect(notices[0]).toEqual([{ reason: 'out_of_range', message: 'no', ts: 1 }]);
    await server.publish(`devices/${ID}/errors`, [{ reason: 'a', message: '', ts: 1, index: 0 }, { reason: 'b', message: '', ts: 1, index: 3 }]);
    await until('the batch notice', () => notices.some((n) => Array.isArray(n) && n.length === 2));

    stop();
    const count = notices.length;
    const stillListening: unknown[] = [];
    client.onError((received) => stillListening.push(received));
    await server.publish(`devices/${ID}/errors`, { reason: 'c', message: '', ts: 1 });
    await until('the last notice', () => stillListening.length === 1);
    expect(notices.length).toBe(count);
  });

  it('buffers while the broker is down and delivers in order, with the original times, once it is back', async () => {
    const first = await broker();
    const client = device(first.port);
    await client.connect();
    await client.publishTelemetry(reading(0));

    const offline = once(client, 'offline');
    await first.close();
    await offline;
    expect(client.state).not.toBe('online');

    const producedFrom = Date.now();
    for (let i = 1; i <= 5; i++) expect(await client.publishTelemetry(reading(i))).toEqual({ buffered: true });
    expect(await client.publishTelemetry([reading(6), reading(7)])).toEqual({ buffered: true });
    const producedUntil = Date.now();
    await expect(client.publishEvent({ type: 'accident' })).rejects.toThrow(/not connected/);
    expect(client.stats()).toMatchObject({ buffered: 7, acknowledged: 1 });
    // Make sure delivery happens in a later millisecond than production.
    await until('the clock to move', () => Date.now() > producedUntil);

    const second = await broker(first.port);
    await once(client, 'connect');
    await until('the buffer to be flushed', () => readings(second.messages).length === 7);
    const flushed = readings(second.messages);
    expect(flushed.map((r) => r.intensity)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const r of flushed) {
      expect(r.ts).toBeGreaterThanOrEqual(producedFrom);
      expect(r.ts).toBeLessThanOrEqual(producedUntil);
    }
    for (const message of second.messages) expect(message.payload.startsWith('[')).toBe(true);
    await until('the acknowledgements', () => client.stats().acknowledged === 8);
    expect(client.stats()).toEqual({ sent: 8, acknowledged: 8, buffered: 0, dropped: 0, reconnects: 1 });
  });

  it('sends again what was in flight when the connection dropped', async () => {
    const first = await broker(0, { holdPublishes: true });
    const client = device(first.port);
    await client.connect();
    const pending = client.publishTelemetry(reading(1));
    await until('the publish to reach the broker', () => client.stats().sent === 1);
    // The broker never acknowledged: the reading counts as not delivered.
    const offline = once(client, 'offline');
    await first.close();
    await offline;
    expect(await pending).toEqual({ buffered: true });
    expect(client.stats()).toMatchObject({ buffered: 1, acknowledged: 0 });
    await client.publishTelemetry(reading(2));

    const second = await broker(first.port);
    await until('the redelivery', () => readings(second.messages).length === 2);
    expect(readings(second.messages).map((r) => r.intensity)).toEqual([1, 2]);
  });

  it('drops the oldest readings when the buffer is full, and counts them', async () => {
    const port = await freePort();
    const client = device(port, { bufferLimit: 3 });
    const connected = client.connect();
    for (let i = 0; i < 5; i++) await client.publishTelemetry(reading(i));
    expect(client.stats()).toMatchObject({ buffered: 3, dropped: 2, sent: 0 });

    const server = await broker(port);
    await connected;
    await until('the flush', () => readings(server.messages).length === 3);
    expect(readings(server.messages).map((r) => r.intensity)).toEqual([2, 3, 4]);
    expect(client.stats()).toMatchObject({ buffered: 0, dropped: 2, reconnects: 0 });
  });

  it('cuts large sends into batches of at most 1000 readings that fit in a packet', async () => {
    const server = await broker();
    const client = device(server.port);
    await client.connect();
    const many = Array.from({ length: 2500 }, (_, i) => ({ ...reading(i), ts: 1_748_736_000_000 + i }));
    expect(await client.publishTelemetry(many)).toEqual({ buffered: false });
    await until('delivery', () => readings(server.messages).length === many.length);
    const telemetry = server.messages.filter((m) => m.topic.endsWith('/telemetry'));
    expect(telemetry.length).toBeGreaterThanOrEqual(3);
    for (const message of telemetry) {
      expect(Buffer.byteLength(message.payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES - 200);
      expect((JSON.parse(message.payload) as unknown[]).length).toBeLessThanOrEqual(MAX_BATCH_READINGS);
    }
    expect(readings(server.messages).map((r) => r.intensity)).toEqual(many.map((r) => r.intensity));
    await expect(client.publishTelemetry({ intensity: 1, note: 'x'.repeat(MAX_PAYLOAD_BYTES) })).rejects.toThrow(RangeError);
  });

  it('rejects connect() when the broker refuses the credentials, and does not retry', async () => {
    const server = await broker();
    const client = device(server.port, { secret: 'wrong', minReconnectMs: 1, maxReconnectMs: 5 });
    const refused = once(client, 'refused');
    const error = await client.connect().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect((error as ConnectionRefusedError).returnCode).toBe(4);
    expect((error as Error).message).toMatch(/refused device dn-traffic-042.*Bad username or password.*Not retrying/);
    await refused;
    expect(client.state).toBe('refused');
    await expect(client.connect()).rejects.toBe(error);
    // With a 5 ms back-off, a retrying client would have tried many times over.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.authAttempts).toBe(1);
  });

  it('stops for good when the broker refuses a secret that worked before, as after a rotation', async () => {
    const server = await broker();
    const client = device(server.port);
    await client.connect();
    server.secret = 'rotated';
    const offline = once(client, 'offline');
    const refused = once(client, 'refused');
    server.dropConnections();
    await offline;
    const [error] = (await refused) as [ConnectionRefusedError];
    expect(error.returnCode).toBe(4);
    expect(client.state).toBe('refused');
    expect(server.authAttempts).toBe(2);
  });

  it('keeps retrying while the broker is unreachable', async () => {
    const port = await freePort();
    const client = device(port, { minReconnectMs: 20, maxReconnectMs: 40 });
    const connected = client.connect();
    await until('a few attempts', () => client.state === 'waiting');
    const server = await broker(port);
    await connected;
    expect(client.state).toBe('online');
    expect(server.authAttempts).toBe(1);
  });

  it('closes cleanly, also while waiting to reconnect, and refuses use afterwards', async () => {
    const port = await freePort();
    const client = device(port);
    const connected = client.connect();
    await until('the first failure', () => client.state === 'waiting');
    await client.close();
    await expect(connected).rejects.toThrow(/closed/);
    expect(client.state).toBe('closed');
    await expect(client.publishTelemetry(reading(1))).rejects.toThrow(/closed/);
    await expect(client.connect()).rejects.toThrow(/closed/);

    const server = await broker();
    const online = device(server.port);
    await online.connect();
    await online.publishTelemetry(reading(1));
    await online.close();
    expect(online.state).toBe('closed');
    await until('delivery', () => readings(server.messages).length === 1);
  });

  it('connects over TLS to a broker whose certificate it is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'city-sdk-tls-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const [key, cert] = [join(dir, 'broker.key'), join(dir, 'broker.crt')];
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
      { stdio: 'ignore' },
    );
    const server = await broker(0, { tls: { key: readFileSync(key), cert: readFileSync(cert) } });
    const url = `mqtts://127.0.0.1:${server.port}`;

    const trusting = device(server.port, { url, ca: readFileSync(cert) });
    await trusting.connect();
    expect(await trusting.publishTelemetry(reading(1))).toEqual({ buffered: false });

    // An unknown certificate is a network failure, not a refusal: the device keeps trying.
    const wary = device(server.port, { url });
    void wary.connect().catch(() => undefined);
    await until('a failed TLS handshake', () => wary.state === 'waiting');
    expect(server.authAttempts).toBe(1);
  });

  it('refuses a bad url or device id up front', () => {
    expect(() => new DeviceClient({ url: 'http://x', deviceId: ID, secret: SECRET })).toThrow(/mqtt:\/\//);
    expect(() => new DeviceClient({ url: 'mqtt://x', deviceId: 'a/b', secret: SECRET })).toThrow(/device id/);
  });
});

describe('reconnectDelay', () => {
  it('doubles its ceiling with every failed attempt up to the maximum', () => {
    const ceiling = (attempt: number) => reconnectDelay(attempt, 1000, 60_000, () => 1);
    expect([0, 1, 2, 3, 5, 6, 7, 100, 5000].map(ceiling)).toEqual([1000, 2000, 4000, 8000, 32_000, 60_000, 60_000, 60_000, 60_000]);
  });

  it('draws uniformly below the ceiling (full jitter), so that a fleet does not reconnect in step', () => {
    expect(reconnectDelay(3, 1000, 60_000, () => 0)).toBe(0);
    expect(reconnectDelay(3, 1000, 60_000, () => 0.25)).toBe(2000);
    const delays = Array.from({ length: 1000 }, () => reconnectDelay(4, 1000, 60_000));
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(0);
    for (const delay of delays) expect(delay).toBeLessThan(16_000);
    // A thousand devices restarting together spread over the whole window rather than bunching up.
    const perSecond = new Set(delays.map((delay) => Math.floor(delay / 1000)));
    expect(perSecond.size).toBe(16);
  });
});
