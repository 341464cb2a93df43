/**
 * One load-generating process: holds its share of the device connections and, once the parent says
 * go (every worker connected, so that all publish over the same window), publishes its share of the
 * rate, reporting counts and latencies twice a second. Several run side by side when one process
 * would run out of file descriptors or CPU.
 */
import { DeviceClient, type DeviceKind, type DeviceReading } from '@city/devices';
import { connectDevice, type ConnectionListener, type DeviceConnection, type LoadDevice } from './connection.js';
import { LatencySample } from './latency.js';
import { payloadFor, readingFor } from './payloads.js';

export interface WorkerTask {
  url: string;
  devices: (LoadDevice & { kind: DeviceKind; sourceAddress?: string })[];
  rate: number;
  qos: 0 | 1;
  durationS: number;
  maxInFlight: number;
  /** Readings per message: above 1, each message is a gateway batch. */
  batch: number;
  /** Devices through the SDK: they reconnect with back-off and buffer while offline (fault tests), instead of bare connections. */
  sdk?: boolean;
  /** The SDK devices' back-off ceiling, when not the SDK's own. */
  maxReconnectMs?: number;
}

export interface WorkerReport {
  type: 'connecting' | 'connected' | 'stats' | 'done';
  connected: number;
  connectFailures: number;
  sent: number;
  acknowledged: number;
  failed: number;
  /** Reconnections after the first (SDK devices only). */
  reconnects: number;
  latencies: number[];
  /** With `done`: how long this worker published, and how long it then waited for the last acknowledgements. */
  publishMs?: number;
  drainMs?: number;
}

/** How long to wait, after publishing, for acknowledgements still in flight before counting them failed. */
const DRAIN_LIMIT_MS = 30_000;

const send = (report: WorkerReport) => process.send?.(report);

process.once('message', (task: WorkerTask) => {
  (task.sdk ? runSdk(task) : run(task)).then(
    () => process.exit(0),
    (error: Error) => {
      process.stderr.write(`load worker: ${error.message}\n`);
      process.exit(1);
    },
  );
});

const go = () => new Promise<void>((resolve) => process.once('message', () => resolve()));

async function run(task: WorkerTask): Promise<void> {
  const clients: { connection: DeviceConnection; kind: DeviceKind; lastTs: number }[] = [];
  let sent = 0;
  let acknowledged = 0;
  let failed = 0;
  let inFlight = 0;
  let connectFailures = 0;
  let latencies = new LatencySample(20_000);
  const report = (type: WorkerReport['type'], extra: Partial<WorkerReport> = {}) => {
    send({ type, connected: clients.length, connectFailures, sent, acknowledged, failed, reconnects: 0, latencies: latencies.snapshot(), ...extra });
    latencies = new LatencySample(20_000);
  };
  const listener: ConnectionListener = {
    acknowledged(publishedAt) {
      inFlight--;
      acknowledged++;
      latencies.add(performance.now() - publishedAt);
    },
    lost(count) {
      inFlight -= count;
      failed += count;
    },
  };

  let next = 0;
  // Connect in waves: a thousand simultaneous TLS-less CONNECTs are fine, ten thousand would only queue.
  const connectOne = async () => {
    while (next < task.devices.length) {
      const device = task.devices[next++] as WorkerTask['devices'][number];
      try {
        clients.push({ connection: await connectDevice(task.url, device, { localAddress: device.sourceAddress, listener }), kind: device.kind, lastTs: 0 });
      } catch {
        connectFailures++;
      }
    }
  };
  const connecting = setInterval(() => report('connecting'), 250);
  await Promise.all(Array.from({ length: 200 }, connectOne));
  clearInterval(connecting);
  const started = go();
  report('connected');
  await started;
  if (clients.length === 0) return report('done', { publishMs: 0, drainMs: 0 });

  let cursor = 0;
  const startedAt = performance.now();
  const reporter = setInterval(() => report('stats'), 500);
  // Past the in-flight bound the generator falls behind its rate rather than queue without end.
  await pace(task, () => inFlight < task.maxInFlight, () => {
    const target = clients[cursor] as (typeof clients)[number];
    cursor = cursor + 1 === clients.length ? 0 : cursor + 1;
    sent++;
    inFlight++;
    target.connection.publish(messageFor(target, task.batch, sent), task.qos);
  });
  const publishedUntil = performance.now();
  while (inFlight > 0 && performance.now() < publishedUntil + DRAIN_LIMIT_MS) await new Promise((resolve) => setTimeout(resolve, 20));
  const drainedAt = performance.now();
  failed += inFlight;
  clearInterval(reporter);
  report('done', { publishMs: publishedUntil - startedAt, drainMs: drainedAt - publishedUntil });
  await Promise.all(clients.map(({ connection }) => connection.end()));
}

/** One reading, or a gateway batch of them, each in its own millisecond: a second reading in the same millisecond would overwrite the first in InfluxDB. */
function messageFor(device: { kind: DeviceKind; lastTs: number }, batch: number, n: number): string {
  const now = Date.now();
  device.lastTs = Math.max(now, device.lastTs + 1);
  if (batch === 1) return payloadFor(device.kind, device.lastTs, n, now);
  const readings = [payloadFor(device.kind, device.lastTs, n, now)];
  for (let i = 1; i < batch; i++) {
    device.lastTs++;
    readings.push(payloadFor(device.kind, device.lastTs, n, now));
  }
  return `[${readings.join(',')}]`;
}

/** Calls `emit` at the task's rate until its duration is over, while `ready` allows; a stalled generator does not burst to catch up by more than a second. */
function pace(task: WorkerTask, ready: () => boolean, emit: () => void): Promise<void> {
  const deadline = performance.now() + task.durationS * 1000;
  let budget = 0;
  let last = performance.now();
  return new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      if (now >= deadline) {
        clearInterval(tick);
        resolve();
        return;
      }
      budget = Math.min(task.rate, budget + ((now - last) / 1000) * task.rate);
      last = now;
      while (budget >= 1 && ready()) {
        budget--;
        emit();
      }
    }, 5);
  });
}

/**
 * SDK devices: a reading is produced at the rate whether the device is online or not (the SDK buffers it), and
 * counts as acknowledged once the broker acknowledged it, however late. Each device's timestamps strictly
 * increase, so that every reading is its own point in InfluxDB. At the end it waits for the buffers to drain.
 */
async function runSdk(task: WorkerTask): Promise<void> {
  const devices = task.devices.map((device) => ({ ...device, client: new DeviceClient({ url: task.url, deviceId: device.id, secret: device.secret, ...(task.maxReconnectMs !== undefined && { maxReconnectMs: task.maxReconnectMs }) }), lastTs: 0 }));
  let connectFailures = 0;
  let next = 0;
  const connectOne = async () => {
    while (next < devices.length) {
      const device = devices[next++] as (typeof devices)[number];
      await device.client.connect().catch(() => connectFailures++);
    }
  };
  await Promise.all(Array.from({ length: 200 }, connectOne));
  let sent = 0;
  let latencies = new LatencySample(20_000);
  const total = (key: 'acknowledged' | 'dropped' | 'reconnects') => devices.reduce((sum, device) => sum + device.client.stats()[key], 0);
  const report = (type: WorkerReport['type'], extra: Partial<WorkerReport> = {}) => {
    const connected = devices.filter((device) => device.client.state === 'online').length;
    send({ type, connected, connectFailures, sent, acknowledged: total('acknowledged'), failed: total('dropped'), reconnects: total('reconnects'), latencies: latencies.snapshot(), ...extra });
    latencies = new LatencySample(20_000);
  };
  const started = go();
  report('connected');
  await started;
  const startedAt = performance.now();
  const reporter = setInterval(() => report('stats'), 500);
  let cursor = 0;
  await pace(task, () => true, () => {
    const device = devices[cursor++ % devices.length] as (typeof devices)[number];
    device.lastTs = Math.max(Date.now(), device.lastTs + 1);
    sent++;
    const publishedAt = performance.now();
    device.client.publishTelemetry(readingFor(device.kind, device.lastTs, sent) as DeviceReading).then(
      (result) => result.buffered || latencies.add(performance.now() - publishedAt),
      () => undefined,
    );
  });
  const publishedUntil = performance.now();
  const drainUntil = publishedUntil + 60_000;
  while (total('acknowledged') + total('dropped') < sent && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 50));
  clearInterval(reporter);
  report('done', { publishMs: publishedUntil - startedAt, drainMs: performance.now() - publishedUntil });
  await Promise.all(devices.map((device) => device.client.close()));
}
