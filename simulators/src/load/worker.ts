/**
 * One load-generating process: holds its share of the device connections and, once the parent says
 * go (every worker connected, so that all publish over the same window), publishes its share of the
 * rate, reporting counts and latencies twice a second. Several run side by side when one process
 * would run out of file descriptors or CPU.
 */
import type { MqttClient } from 'mqtt';
import type { DeviceKind } from '@city/devices';
import { connectDevice, type LoadDevice } from './connection.js';
import { LatencySample } from './latency.js';
import { payloadFor } from './payloads.js';

export interface WorkerTask {
  url: string;
  devices: (LoadDevice & { kind: DeviceKind; sourceAddress?: string })[];
  rate: number;
  qos: 0 | 1;
  durationS: number;
  maxInFlight: number;
}

export interface WorkerReport {
  type: 'connecting' | 'connected' | 'stats' | 'done';
  connected: number;
  connectFailures: number;
  sent: number;
  acknowledged: number;
  failed: number;
  latencies: number[];
  /** With `done`: how long this worker published, and how long it then waited for the last acknowledgements. */
  publishMs?: number;
  drainMs?: number;
}

/** How long to wait, after publishing, for acknowledgements still in flight before counting them failed. */
const DRAIN_LIMIT_MS = 30_000;

const send = (report: WorkerReport) => process.send?.(report);

process.once('message', (task: WorkerTask) => {
  run(task).then(
    () => process.exit(0),
    (error: Error) => {
      process.stderr.write(`load worker: ${error.message}\n`);
      process.exit(1);
    },
  );
});

const go = () => new Promise<void>((resolve) => process.once('message', () => resolve()));

async function run(task: WorkerTask): Promise<void> {
  const clients: { client: MqttClient; id: string; kind: DeviceKind; lastTs: number }[] = [];
  let sent = 0;
  let acknowledged = 0;
  let failed = 0;
  let connectFailures = 0;
  let latencies = new LatencySample(20_000);
  const report = (type: WorkerReport['type'], extra: Partial<WorkerReport> = {}) => {
    send({ type, connected: clients.length, connectFailures, sent, acknowledged, failed, latencies: latencies.snapshot(), ...extra });
    latencies = new LatencySample(20_000);
  };

  let next = 0;
  // Connect in waves: a thousand simultaneous TLS-less CONNECTs are fine, ten thousand would only queue.
  const connectOne = async () => {
    while (next < task.devices.length) {
      const device = task.devices[next++] as WorkerTask['devices'][number];
      try {
        clients.push({ client: await connectDevice(task.url, device, device.sourceAddress), id: device.id, kind: device.kind, lastTs: 0 });
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

  let inFlight = 0;
  const startedAt = performance.now();
  const deadline = startedAt + task.durationS * 1000;
  let cursor = 0;
  let budget = 0;
  let last = startedAt;
  const reporter = setInterval(() => report('stats'), 500);
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      if (now >= deadline) {
        clearInterval(tick);
        resolve();
        return;
      }
      budget += ((now - last) / 1000) * task.rate;
      last = now;
      // Past the in-flight bound the generator falls behind its rate rather than queue without end.
      while (budget >= 1 && inFlight < task.maxInFlight) {
        budget--;
        const target = clients[cursor++ % clients.length] as (typeof clients)[number];
        const publishedAt = performance.now();
        sent++;
        inFlight++;
        // One reading per (device, millisecond): a second one in the same millisecond would overwrite the first in InfluxDB.
        target.lastTs = Math.max(Date.now(), target.lastTs + 1);
        target.client.publish(`devices/${target.id}/telemetry`, payloadFor(target.kind, target.lastTs, sent, Date.now()), { qos: task.qos }, (error) => {
          inFlight--;
          if (error) failed++;
          else {
            acknowledged++;
            latencies.add(performance.now() - publishedAt);
          }
        });
      }
      if (budget > task.rate) budget = task.rate;
    }, 5);
  });
  const publishedUntil = performance.now();
  while (inFlight > 0 && performance.now() < publishedUntil + DRAIN_LIMIT_MS) await new Promise((resolve) => setTimeout(resolve, 20));
  const drainedAt = performance.now();
  failed += inFlight;
  clearInterval(reporter);
  report('done', { publishMs: publishedUntil - startedAt, drainMs: drainedAt - publishedUntil });
  await Promise.all(clients.map(({ client }) => client.endAsync().catch(() => undefined)));
}
