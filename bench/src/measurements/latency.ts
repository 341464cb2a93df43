/**
 * 4. Latency: probe devices publish readings with known timestamps, at QoS 1, and the bench times (a) publish → the
 * point is queryable in InfluxDB, polling for it, and (b) publish → the api's live WebSocket delivers the probe's
 * state holding that reading or a later one, to a client that follows that probe device and to one that takes the
 * whole city (the stream sends each thing's latest state, at most once a second). Taken first with no other traffic (the baseline), then under the load generator's
 * background load; the ratio loaded/unloaded says what the load costs.
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { DeviceRegistry, deviceTopic } from '@city/devices';
import { loadavg } from 'node:os';
import { startPlatform, type PlatformStack } from '@city/faults/platform-stack';
import { influxQuery } from '@city/platform';
import { payloadFor } from '@city/simulators/src/load/payloads.js';
import { atMost } from '../report.js';
import type { Measurement } from '../measurement.js';
import { ProcessCpu } from '../process-cpu.js';
import { round, summarize } from '../stats.js';

const PROBE_PREFIX = 'bench-probe-';
/** Probes in all: one every PROBE_EVERY_MS, from PROBE_DEVICES devices in turn. */
const PROBE_EVERY_MS = 250;
/** Each probe device publishes every 1.25 s, further apart than the stream's pace, so that its own stream client never holds a probe back. */
const PROBE_DEVICES = 5;
/** The api stream's pace: at most one message a second per client, counted from its snapshot. */
const STREAM_PACE_MS = 1000;
const BACKGROUND_RATE = 10_000;
const BACKGROUND_DEVICES = 1000;
const INFLUX_POLL_MS = 20;
/** Messages from the load that say it has begun publishing. */
const LOAD_STARTED_MESSAGES = 1000;
const LOAD_START_LIMIT_MS = 120_000;
/** A probe not seen this long after the last one was published counts as missing (and as this late). */
const GIVE_UP_MS = { quick: 5000, full: 15_000 };

interface Probe {
  device: string;
  ts: number;
  publishedAt: number;
  influxMs?: number;
  /** On the whole city's stream. */
  websocketMs?: number;
  /** On the stream of a client that follows the probe device alone. */
  followingMs?: number;
  /** How long it was waited for: a probe never seen was at least this late. */
  waitedMs?: number;
}

export const latency: Measurement = {
  name: 'latency',
  title: 'Latency: publish → queryable in InfluxDB and → delivered on the WebSocket, under 10,000 readings/s',
  declares: [
    { name: 'latency_influx_p99_s', unit: 's', target: '<= 1.5' },
    { name: 'latency_websocket_p99_s', unit: 's', target: '<= 1' },
  ],
  async run({ quick, progress }) {
    const baselineS = quick ? 4 : 20;
    const loadedS = quick ? 8 : 60;
    const giveUpMs = quick ? GIVE_UP_MS.quick : GIVE_UP_MS.full;
    progress('starting the platform / khởi động nền tảng');
    // The load's 10 readings/s per device is the broker's default limit; a little room keeps pacing jitter from being dropped.
    const stack = await startPlatform({ env: { DEVICE_RATE_LIMIT: String((BACKGROUND_RATE / BACKGROUND_DEVICES) * 2) } });
    let probe: ProbeClient | undefined;
    try {
      probe = await ProbeClient.open(stack, giveUpMs);
      progress(`baseline: probes with no other traffic for ${baselineS} s / đo khi không tải`);
      const unloaded = await probe.run(baselineS * 1000);

      progress(`background load ${BACKGROUND_RATE}/s from ${BACKGROUND_DEVICES} devices / tải nền`);
      const cpu = new ProcessCpu();
      cpu.track('broker', stack.broker.pid);
      cpu.track('ingest', stack.ingest.pid);
      cpu.track('api', stack.api.pid);
      cpu.track('influxd', stack.influx.pid);
      const loading = stack.load({
        devices: BACKGROUND_DEVICES,
        rate: BACKGROUND_RATE,
        // Runs past the probes; the platform's close ends it.
        durationS: loadedS + 60,
        payload: 'mixed',
        sdk: false,
        qos: 1,
        onStart: (pid) => cpu.track('loadGenerator', pid),
      });
      loading.catch(() => undefined);
      await waitForLoad(stack, loading);
      progress(`probes under load for ${loadedS} s / đo khi có tải`);
      const messagesBefore = await stack.ingestMetric('ingest_messages_received_total');
      const loadedFrom = performance.now();
      const loaded = await probe.run(loadedS * 1000);
      const backgroundRate = ((await stack.ingestMetric('ingest_messages_received_total')) - messagesBefore) / ((performance.now() - loadedFrom) / 1000);
      const cpuCores = cpu.stop().cores;

      const figures = (probes: Probe[]) => {
        const summary = (ms: (p: Probe) => number | undefined) => ({
          ...seconds(summarize(probes.map((p) => ms(p) ?? p.waitedMs ?? giveUpMs))),
          missing: probes.filter((p) => ms(p) === undefined).length,
        });
        return { influx: summary((p) => p.influxMs), following: summary((p) => p.followingMs), wholeCity: summary((p) => p.websocketMs) };
      };
      const base = figures(unloaded);
      const under = figures(loaded);
      const ratio = (a: number, b: number) => round(a / b, 2);
      const notes = [
        `A probe reading every ${PROBE_EVERY_MS} ms at QoS 1, from ${PROBE_DEVICES} probe devices in turn; InfluxDB polled every ${INFLUX_POLL_MS} ms for the probes' points; a stream counts a probe delivered when a message carries its device's state with that reading or a later one.`,
        `WebSocket, the target's figure: each probe device has a stream client that follows it alone (\`?devices=\`), as a detail panel or an integration does. Its readings come every ${(PROBE_EVERY_MS * PROBE_DEVICES) / 1000} s, further apart than the stream's once-a-second pace, so this is publish → broker → api → socket.`,
        `WebSocket, the whole city (apart from the target): p50 ${under.wholeCity.p50} s, p99 ${under.wholeCity.p99} s under load (unloaded p99 ${base.wholeCity.p99} s). A client that takes the whole city gets at most one message a second, as soon as a second has passed since its last one; with changes arriving all the time a probe waits up to that second, so this p99 sits near 1 s plus the pipeline by design.`,
        `Background: ${BACKGROUND_DEVICES} bare devices at ${BACKGROUND_RATE} readings/s offered, QoS 1, mixed payloads; ingest received ${Math.round(backgroundRate)} messages/s while the probes ran.`,
        `Probes not seen within ${giveUpMs / 1000} s of the last one count as late as they were waited for (a lower bound): under load ${under.influx.missing} of ${loaded.length} missing in InfluxDB, ${under.following.missing} on the following streams, ${under.wholeCity.missing} on the whole city's; unloaded ${base.influx.missing}, ${base.following.missing} and ${base.wholeCity.missing} of ${unloaded.length}.`,
        `Under load / unloaded p99: InfluxDB ${ratio(under.influx.p99, base.influx.p99)}×, WebSocket ${ratio(under.following.p99, base.following.p99)}×.`,
        `CPU in cores under load (2 cores on the box): ${Object.entries(cpuCores).map(([name, cores]) => `${name} ${cores}`).join(', ')}.`,
      ];
      return {
        targets: [atMost('latency_influx_p99_s', under.influx.p99, 1.5, 's'), atMost('latency_websocket_p99_s', under.following.p99, 1, 's')],
        raw: {
          probeEveryMs: PROBE_EVERY_MS,
          probeDevices: PROBE_DEVICES,
          backgroundRate: BACKGROUND_RATE,
          backgroundDevices: BACKGROUND_DEVICES,
          backgroundReceivedPerS: Math.round(backgroundRate),
          loaded: under,
          unloaded: base,
          ratioLoadedToUnloaded: {
            influxP50: ratio(under.influx.p50, base.influx.p50),
            influxP99: ratio(under.influx.p99, base.influx.p99),
            websocketP50: ratio(under.following.p50, base.following.p50),
            websocketP99: ratio(under.following.p99, base.following.p99),
          },
          cpuCores,
          loadAverage1m: round(loadavg()[0] as number, 1),
        },
        notes,
      };
    } finally {
      await probe?.close();
      await stack.close();
    }
  },
};

function seconds(summary: ReturnType<typeof summarize>) {
  return { count: summary.count, p50: round(summary.p50 / 1000), p95: round(summary.p95 / 1000), p99: round(summary.p99 / 1000), max: round(summary.max / 1000) };
}

/** Waits until ingest sees the background load (the generator provisions and connects its devices first). */
async function waitForLoad(stack: PlatformStack, loading: Promise<unknown>): Promise<void> {
  let failed: unknown;
  loading.catch((error: unknown) => (failed = error));
  const before = await stack.ingestMetric('ingest_messages_received_total');
  const deadline = Date.now() + LOAD_START_LIMIT_MS;
  while (Date.now() < deadline) {
    if (failed) throw failed;
    if ((await stack.ingestMetric('ingest_messages_received_total')) - before >= LOAD_STARTED_MESSAGES) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the background load had not reached ingest after ${LOAD_START_LIMIT_MS / 1000} s`);
}

/** A stream client: the whole city, or one that follows a single probe device. */
interface Watcher {
  socket: WebSocket;
  /** The probe device it follows; undefined for the whole city. */
  follows: string | undefined;
}

/**
 * The probe devices' MQTT connections, the api's WebSocket streams and the InfluxDB poller. Each probe device
 * publishes every PROBE_EVERY_MS × PROBE_DEVICES, staggered, and has a stream client of its own that follows it:
 * its readings are further apart than the stream's once-a-second pace, so that client's figure is the pipeline's
 * latency. One more client follows the whole city, where each probe also waits for that client's pace.
 */
class ProbeClient {
  private pending: Probe[] = [];

  private constructor(
    private readonly stack: PlatformStack,
    private readonly giveUpMs: number,
    private readonly devices: { id: string; client: MqttClient }[],
    private readonly watchers: Watcher[],
  ) {
    for (const watcher of watchers) watcher.socket.on('message', (data: Buffer) => this.onStreamMessage(watcher, data));
  }

  static async open(stack: PlatformStack, giveUpMs: number): Promise<ProbeClient> {
    const registry = DeviceRegistry.open(join(stack.dataDir, 'registry.db'));
    const secrets: { id: string; secret: string }[] = [];
    try {
      for (let i = 0; i < PROBE_DEVICES; i += 1) {
        const id = `${PROBE_PREFIX}${i}`;
        secrets.push({ id, secret: (await registry.add({ id, kind: 'traffic', lon: 108.2208 + i * 0.0001, lat: 16.0544, name: 'bench latency probe', actor: 'bench' })).secret });
      }
    } finally {
      registry.close();
    }
    const devices = await Promise.all(
      secrets.map(async ({ id, secret }) => ({ id, client: await mqtt.connectAsync(stack.mqttUrl, { clientId: id, username: id, password: secret, reconnectPeriod: 0 }) })),
    );
    const token = await stack.token();
    const watch = async (follows: string | undefined): Promise<Watcher> => {
      const query = new URLSearchParams({ access_token: token, ...(follows ? { devices: follows } : {}) });
      const socket = new WebSocket(`${stack.baseUrl.replace(/^http/, 'ws')}/api/v1/stream?${query}`);
      // Open once its snapshot is in: a probe sent sooner would wait for the pace that counts from the snapshot.
      await new Promise<void>((resolve, reject) => {
        socket.once('message', () => resolve());
        socket.once('error', reject);
      });
      return { socket, follows };
    };
    const watchers = await Promise.all([undefined, ...devices.map((device) => device.id)].map(watch));
    await new Promise((resolve) => setTimeout(resolve, STREAM_PACE_MS));
    return new ProbeClient(stack, giveUpMs, devices, watchers);
  }

  /** Publishes probes for `durationMs`, then waits for the last ones to be seen (or given up on). */
  async run(durationMs: number): Promise<Probe[]> {
    const probes: Probe[] = [];
    const until = Date.now() + durationMs;
    let polling = true;
    const poller = this.pollInflux(() => polling);
    let n = 0;
    while (Date.now() < until) {
      const ts = Date.now();
      const device = this.devices[n % this.devices.length] as { id: string; client: MqttClient };
      const probe: Probe = { device: device.id, ts, publishedAt: ts };
      probes.push(probe);
      this.pending.push(probe);
      void device.client.publishAsync(deviceTopic(device.id, 'telemetry'), payloadFor('traffic', ts, n++, ts), { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
    }
    const giveUp = Date.now() + this.giveUpMs;
    const seen = (p: Probe) => p.influxMs !== undefined && p.websocketMs !== undefined && p.followingMs !== undefined;
    while (!probes.every(seen) && Date.now() < giveUp) await new Promise((resolve) => setTimeout(resolve, 50));
    polling = false;
    await poller;
    const gaveUpAt = Date.now();
    for (const probe of probes) probe.waitedMs = gaveUpAt - probe.publishedAt;
    this.pending = [];
    return probes;
  }

  async close(): Promise<void> {
    for (const watcher of this.watchers) watcher.socket.close();
    await Promise.all(this.devices.map((device) => device.client.endAsync().catch(() => undefined)));
  }

  private onStreamMessage(watcher: Watcher, data: Buffer): void {
    const now = Date.now();
    const message = JSON.parse(data.toString()) as { devices?: { id: string; readingTs: number | null }[] };
    for (const state of message.devices ?? []) {
      if (!state.id.startsWith(PROBE_PREFIX) || !state.readingTs) continue;
      for (const probe of this.pending) {
        if (probe.device !== state.id || probe.ts > state.readingTs) continue;
        if (watcher.follows) probe.followingMs ??= now - probe.publishedAt;
        else probe.websocketMs ??= now - probe.publishedAt;
      }
    }
  }

  private async pollInflux(active: () => boolean): Promise<void> {
    while (active()) {
      const waiting = this.pending.filter((p) => p.influxMs === undefined);
      if (waiting.length > 0) {
        const from = (waiting[0] as Probe).ts;
        const rows = await influxQuery(this.stack.influx.url, 'city', `SELECT intensity, device_id FROM "raw"."traffic" WHERE device_id =~ /^${PROBE_PREFIX}/ AND time >= ${from}ms`).catch(() => []);
        const now = Date.now();
        const found = new Set(rows.map((row) => `${String(row.device_id)} ${Number(row.time)}`));
        for (const probe of waiting) if (found.has(`${probe.device} ${probe.ts}`)) probe.influxMs = now - probe.publishedAt;
      }
      await new Promise((resolve) => setTimeout(resolve, INFLUX_POLL_MS));
    }
  }
}
