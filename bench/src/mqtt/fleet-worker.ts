/**
 * One process of a bench device fleet: holds its share of device connections (the load generator's, with packets
 * built once), and on the parent's word publishes at a fixed rate per device, never above it, whatever the broker's
 * pace. A device with too many unacknowledged messages, or a backed-up socket, skips its turn rather than queue without end.
 */
import { deviceTopic } from '@city/devices';
import { connectDevice, type ConnectionListener, type DeviceConnection } from '@city/simulators/src/load/connection.js';
import { PublishTemplate } from '@city/simulators/src/load/wire.js';

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
  device: DeviceConnection;
  template: PublishTemplate | undefined;
}

const WRITE_BACKLOG_BYTES = 64 * 1024;
const TICK_MS = 10;

const send = (report: FleetReport) => process.send?.(report);
const connections: Connection[] = [];
const counts = { tried: 0, connectFailures: 0, dropped: 0, sent: 0, acknowledged: 0, skipped: 0 };
let task: FleetTask;

const status = (type: FleetReport['type'], extra: Partial<FleetReport> = {}) =>
  send({ type, connected: connections.filter((c) => c.device.open).length, ...counts, cpuMs: 0, publishMs: 0, ...extra });

const listener: ConnectionListener = {
  acknowledged: () => counts.acknowledged++,
  closed: () => counts.dropped++,
};

async function connect(device: FleetDevice): Promise<void> {
  try {
    const opened = await connectDevice(`mqtt://${task.host}:${task.port}`, device, { localAddress: device.sourceAddress, keepaliveS: task.keepaliveS, listener });
    connections.push({ topic: deviceTopic(device.id, 'telemetry'), device: opened, template: undefined });
  } catch {
    counts.connectFailures++;
  }
  counts.tried++;
}

async function connectAll(): Promise<void> {
  let next = 0;
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
      const { device } = connection;
      if (!device.open || device.inFlight >= command.maxInFlightPerDevice || device.backlogBytes > WRITE_BACKLOG_BYTES) {
        counts.skipped++;
        continue;
      }
      counts.sent++;
      device.send(connection.template as PublishTemplate);
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
  else process.exit(0);
});
