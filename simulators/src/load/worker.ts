/**
 * One load-generating process: holds its share of the device connections and publishes its share of
 * the rate, reporting counts and latencies to the parent twice a second. Several run side by side when
 * one process would run out of file descriptors or CPU.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { DeviceClient, type DeviceKind, type DeviceReading } from '@city/devices';
import { LatencySample } from './latency.js';
import { payloadFor } from './payloads.js';

export interface WorkerTask {
  url: string;
  devices: { id: string; secret: string; kind: DeviceKind }[];
  rate: number;
  qos: 0 | 1;
  durationS: number;
  maxInFlight: number;
  /** Devices through the SDK: they reconnect with back-off and buffer while offline (fault tests), instead of bare connections. */
  sdk?: boolean;
}

export interface WorkerReport {
  type: 'connected' | 'stats' | 'done';
  connected: number;
  connectFailures: number;
  sent: number;
  acknowledged: number;
  failed: number;
  /** Reconnections after the first (SDK devices only). */
  reconnects: number;
  latencies: number[];
}

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

async function run(task: WorkerTask): Promise<void> {
  const clients: { client: MqttClient; id: string; kind: DeviceKind }[] = [];
  let connectFailures = 0;
  let next = 0;
  // Connect in waves: a thousand simultaneous TLS-less CONNECTs are fine, ten thousand would only queue.
  const connectOne = async () => {
    while (next < task.devices.length) {
      const device = task.devices[next++] as WorkerTask['devices'][number];
      try {
        const client = await mqtt.connectAsync(task.url, { clientId: device.id, username: device.id, password: device.secret, reconnectPeriod: 0, keepalive: 120, connectTimeout: 60_000 });
        clients.push({ client, id: device.id, kind: device.kind });
      } catch {
        connectFailures++;
      }
    }
  };
  await Promise.all(Array.from({ length: 200 }, connectOne));

  let sent = 0;
  let acknowledged = 0;
  let failed = 0;
  let inFlight = 0;
  let latencies = new LatencySample(20_000);
  const report = (type: WorkerReport['type']) => {
    send({ type, connected: clients.length, connectFailures, sent, acknowledged, failed, reconnects: 0, latencies: latencies.snapshot() });
    latencies = new LatencySample(20_000);
  };
  report('connected');
  if (clients.length === 0) return report('done');

  const started = performance.now();
  const deadline = started + task.durationS * 1000;
  let cursor = 0;
  let budget = 0;
  let last = started;
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
        target.client.publish(`devices/${target.id}/telemetry`, payloadFor(target.kind, Date.now(), sent), { qos: task.qos }, (error) => {
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
  const drainUntil = performance.now() + 30_000;
  while (inFlight > 0 && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 20));
  failed += inFlight;
  clearInterval(reporter);
  report('done');
  await Promise.all(clients.map(({ client }) => client.endAsync().catch(() => undefined)));
}

/**
 * SDK devices: a reading is produced at the rate whether the device is online or not (the SDK buffers it), and
 * counts as acknowledged once the broker acknowledged it, however late. Each device's timestamps strictly
 * increase, so that every reading is its own point in InfluxDB. At the end it waits for the buffers to drain.
 */
async function runSdk(task: WorkerTask): Promise<void> {
  const devices = task.devices.map((device) => ({ ...device, client: new DeviceClient({ url: task.url, deviceId: device.id, secret: device.secret }), lastTs: 0 }));
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
  const report = (type: WorkerReport['type']) => {
    const connected = devices.filter((device) => device.client.state === 'online').length;
    send({ type, connected, connectFailures, sent, acknowledged: total('acknowledged'), failed: total('dropped'), reconnects: total('reconnects'), latencies: latencies.snapshot() });
    latencies = new LatencySample(20_000);
  };
  report('connected');
  const reporter = setInterval(() => report('stats'), 500);
  const started = performance.now();
  const deadline = started + task.durationS * 1000;
  let cursor = 0;
  let budget = 0;
  let last = started;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      if (now >= deadline) {
        clearInterval(tick);
        resolve();
        return;
      }
      budget = Math.min(task.rate, budget + ((now - last) / 1000) * task.rate);
      last = now;
      while (budget >= 1) {
        budget--;
        const device = devices[cursor++ % devices.length] as (typeof devices)[number];
        device.lastTs = Math.max(Date.now(), device.lastTs + 1);
        sent++;
        const publishedAt = performance.now();
        device.client.publishTelemetry(JSON.parse(payloadFor(device.kind, device.lastTs, sent)) as DeviceReading).then(
          (result) => result.buffered || latencies.add(performance.now() - publishedAt),
          () => undefined,
        );
      }
    }, 5);
  });
  const drainUntil = performance.now() + 60_000;
  while (total('acknowledged') + total('dropped') < sent && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 50));
  clearInterval(reporter);
  report('done');
  await Promise.all(devices.map((device) => device.client.close()));
}
