/**
 * One process of a bench device fleet: holds its share of device connections (raw sockets, packets built once),
 * and on the parent's word publishes at a fixed rate per device, never above it, whatever the broker's pace.
 * A device with too many unacknowledged messages, or a full socket, skips its turn rather than queue without end.
 */
import { createConnection, type Socket } from 'node:net';
import { PACKET, PacketReader, PINGREQ, PublishTemplate, connectPacket } from '@city/simulators/src/load/wire.js';

export interface FleetDevice {
  id: string;
  secret: string;
  sourceAddress?: string;
}

export interface FleetTask {
  host: string;
  port: number;
  devices: FleetDevice[];
  keepaliveS: number;
  /** CONNECTs outstanding at once. */
  connectConcurrency: number;
  payload: string;
}

export type FleetCommand = { type: 'publish'; perDeviceRate: number; qos: 0 | 1; durationMs: number; maxInFlightPerDevice: number } | { type: 'stop' };

export interface FleetReport {
  type: 'status' | 'published';
  /** Devices whose CONNECT has been answered or has failed. */
  tried: number;
  connected: number;
  connectFailures: number;
  /** Connections that closed after CONNACK. */
  dropped: number;
  sent: number;
  acknowledged: number;
  skipped: number;
  /** CPU this process used during the last publish phase (user + system). */
  cpuMs: number;
  publishMs: number;
}

interface Connection {
  topic: string;
  socket: Socket;
  template: PublishTemplate | undefined;
  nextId: number;
  inFlight: number;
  open: boolean;
}

const WRITE_BACKLOG_BYTES = 64 * 1024;
const TICK_MS = 10;

const send = (report: FleetReport) => process.send?.(report);
const connections: Connection[] = [];
const counts = { tried: 0, connectFailures: 0, dropped: 0, sent: 0, acknowledged: 0, skipped: 0 };
let task: FleetTask;

const status = (type: FleetReport['type'], extra: Partial<FleetReport> = {}) =>
  send({ type, connected: connections.filter((c) => c.open).length, ...counts, cpuMs: 0, publishMs: 0, ...extra });

function connect(device: FleetDevice): Promise<void> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: task.host, port: task.port, ...(device.sourceAddress ? { localAddress: device.sourceAddress } : {}) });
    socket.setNoDelay(true);
    const connection: Connection = { topic: `devices/${device.id}/telemetry`, socket, template: undefined, nextId: 1, inFlight: 0, open: false };
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      counts.tried++;
      if (ok) connections.push(connection);
      else {
        counts.connectFailures++;
        socket.destroy();
      }
      resolve();
    };
    const reader = new PacketReader((type, body) => {
      if (type === PACKET.puback) {
        connection.inFlight--;
        counts.acknowledged++;
      } else if (type === PACKET.connack) {
        connection.open = body[1] === 0;
        settle(connection.open);
      }
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => settle(false));
    socket.on('close', () => {
      if (connection.open) counts.dropped++;
      connection.open = false;
      settle(false);
    });
    socket.on('connect', () => socket.write(connectPacket({ clientId: device.id, username: device.id, password: device.secret, clean: true, keepaliveS: task.keepaliveS })));
  });
}

async function connectAll(): Promise<void> {
  let next = 0;
  // Idle connections owe the broker a sign of life within their keep-alive, while the others are still connecting too.
  setInterval(() => connections.forEach((c) => c.open && c.socket.write(PINGREQ)), (task.keepaliveS * 1000) / 2).unref();
  const reporter = setInterval(() => status('status'), 250);
  await Promise.all(
    Array.from({ length: task.connectConcurrency }, async () => {
      while (next < task.devices.length) await connect(task.devices[next++] as FleetDevice);
    }),
  );
  clearInterval(reporter);
  status('status');
}

function publish(command: Extract<FleetCommand, { type: 'publish' }>): void {
  const payload = Buffer.from(task.payload);
  for (const connection of connections) {
    connection.template = new PublishTemplate(connection.topic, payload, command.qos);
    connection.inFlight = 0;
  }
  Object.assign(counts, { sent: 0, acknowledged: 0, skipped: 0 });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const rate = command.perDeviceRate * connections.length;
  let budget = 0;
  let last = started;
  let cursor = 0;
  // Round robin over every device, one message per turn, a skipped turn spent like a sent one: no device ever exceeds the rate.
  const tick = setInterval(() => {
    const now = performance.now();
    if (now - started >= command.durationMs || connections.length === 0) {
      clearInterval(tick);
      const cpu = process.cpuUsage(cpuBefore);
      status('published', { cpuMs: (cpu.user + cpu.system) / 1000, publishMs: now - started });
      return;
    }
    budget = Math.min(rate, budget + ((now - last) / 1000) * rate);
    last = now;
    while (budget >= 1) {
      budget--;
      const connection = connections[cursor++ % connections.length] as Connection;
      if (!connection.open || connection.inFlight >= command.maxInFlightPerDevice || connection.socket.writableLength > WRITE_BACKLOG_BYTES) {
        counts.skipped++;
        continue;
      }
      const id = connection.nextId;
      connection.nextId = id === 65_535 ? 1 : id + 1;
      if (command.qos === 1) connection.inFlight++;
      counts.sent++;
      connection.socket.write((connection.template as PublishTemplate).packet(id));
    }
  }, TICK_MS);
  const reporter = setInterval(() => status('status'), 500);
  reporter.unref();
  setTimeout(() => clearInterval(reporter), command.durationMs + 100).unref();
}

process.on('message', (message: FleetTask | FleetCommand) => {
  if ('devices' in message) {
    task = message;
    void connectAll();
  } else if (message.type === 'publish') publish(message);
  else {
    for (const connection of connections) connection.socket.destroy();
    process.exit(0);
  }
});
