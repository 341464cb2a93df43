/**
 * Measurement 5: concurrent authenticated device connections held by one broker process, and what each costs in
 * memory (VmRSS after − before, over the connections). Every device publishes once every 30 s at QoS 1 while the
 * connections are held; a connection that drops counts against the figure. Baseline: Mosquitto holding the same.
 */
import { atLeast, atMost } from '../report.js';
import type { BenchContext, Measurement } from '../measurement.js';
import { benchDevices, type BenchDevice } from '../devices.js';
import { startFleet } from '../mqtt/fleet.js';
import { startMosquitto } from '../servers/mosquitto.js';
import { startPlatformBroker } from '../servers/platform-broker.js';
import { residentKiB } from '../servers/process-memory.js';
import { round } from '../stats.js';

const DEVICES = 15_000;
/** Fewer than 5,000 connections a process, well under the 20,000 file descriptors each may hold. */
const WORKERS = 4;
/** One source address per worker: each gives about 28,000 ephemeral ports towards the broker's port. */
const SOURCE_ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const PUBLISH_EVERY_S = 30;
const QUICK_BASELINE_DEVICES = 5000;
const PAYLOAD = JSON.stringify({ sentAt: 1764400000000, ts: 1764400000000, intensity: 1234, averageVehicleSpeed: 37.25, occupancy: 0.412 });

interface Held {
  connected: number;
  connectFailures: number;
  connectS: number;
  /** Connections still open at the end of the hold. */
  held: number;
  dropped: number;
  published: number;
  acknowledged: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  kibPerConnection: number;
}

export const connections: Measurement = {
  name: 'connections',
  title: 'Concurrent device connections per broker process / Số kết nối thiết bị đồng thời mỗi tiến trình broker',
  declares: [
    { name: 'broker_connections_held', unit: 'connections', target: '>= 15000' },
    { name: 'broker_memory_per_connection_kib', unit: 'KiB', target: '<= 40' },
  ],
  async run(context) {
    const holdS = context.quick ? 3 : 90;
    const devices = (await benchDevices(DEVICES, context.dataDir, context.progress)).map((device, i) => ({ ...device, sourceAddress: SOURCE_ADDRESSES[i % WORKERS] as string }));
    const ours = await hold('ours', devices, holdS, context);
    // Mosquitto's memory grows in step with its connections, so --quick measures its share on fewer of them.
    const baselineDevices = context.quick ? QUICK_BASELINE_DEVICES : DEVICES;
    const mosquitto = await hold('mosquitto', devices.slice(0, baselineDevices), holdS, context);
    const ratio = round(ours.kibPerConnection / mosquitto.kibPerConnection, 2);
    const notes = [
      `${DEVICES} provisioned devices over ${WORKERS} load processes from ${SOURCE_ADDRESSES.join(', ')}, each publishing one QoS 1 reading every ${PUBLISH_EVERY_S} s, held ${holdS} s; our broker as npm start runs it (its durable store), then Mosquitto with passwords and ACL (${baselineDevices} connections).`,
      `Memory per connection is the broker's VmRSS after the connections were held minus before any connected, over those held; ours costs ${ratio}× Mosquitto's.`,
    ];
    notes.push(
      `Ramp: ours connected ${Math.round(ours.connected / ours.connectS)}/s, Mosquitto ${Math.round(mosquitto.connected / mosquitto.connectS)}/s. Each CONNECT to ours costs a scrypt check of the secret (N = 1024, about 1 ms of the main thread in the profile) and a retained online status written to the durable store.`,
    );
    if (ours.held < DEVICES) notes.push(`Only ${ours.held} of ${DEVICES} connections were held (${ours.connectFailures} refused or failed at CONNECT, ${ours.dropped} dropped).`);
    if (ours.kibPerConnection > 40) notes.push('Memory per connection above 40 KiB: aedes keeps a client object, an mqtt-packet parser and stream buffers per connection.');
    return {
      targets: [atLeast('broker_connections_held', ours.held, DEVICES, 'connections'), atMost('broker_memory_per_connection_kib', round(ours.kibPerConnection, 1), 40, 'KiB')],
      raw: { devices: DEVICES, holdS, ours, mosquitto, memoryPerConnectionVsMosquitto: ratio },
      notes,
    };
  },
};

async function hold(broker: 'ours' | 'mosquitto', devices: BenchDevice[], holdS: number, context: BenchContext): Promise<Held> {
  context.progress(`${broker}: starting / khởi động`);
  const server = broker === 'ours' ? await startPlatformBroker(context.dataDir) : await startMosquitto(context.dataDir, devices, { username: 'bench-consumer', password: 'unused-consumer-password' });
  let fleet: ReturnType<typeof startFleet> | undefined;
  try {
    const rssBeforeKiB = residentKiB(server.pid);
    const started = performance.now();
    let shown = 0;
    fleet = startFleet({ host: '127.0.0.1', port: server.port, devices, workers: WORKERS, keepaliveS: 60, connectConcurrency: 20, payload: PAYLOAD }, (totals) => {
      if (totals.tried - shown < 2500) return;
      shown = totals.tried;
      context.progress(`${broker}: ${totals.connected} connected / đã kết nối`);
    });
    const connected = await fleet.connected;
    const connectS = (performance.now() - started) / 1000;
    context.progress(`${broker}: ${connected.connected} connected in ${connectS.toFixed(1)} s; holding ${holdS} s / giữ kết nối`);
    const totals = await fleet.publish({ type: 'publish', perDeviceRate: 1 / PUBLISH_EVERY_S, qos: 1, durationMs: holdS * 1000, maxInFlightPerDevice: 1 });
    const rssAfterKiB = residentKiB(server.pid);
    const result: Held = {
      connected: connected.connected,
      connectFailures: connected.connectFailures,
      connectS: round(connectS, 1),
      held: totals.connected,
      dropped: totals.dropped,
      published: totals.sent,
      acknowledged: totals.acknowledged,
      rssBeforeKiB,
      rssAfterKiB,
      kibPerConnection: round((rssAfterKiB - rssBeforeKiB) / Math.max(1, totals.connected), 2),
    };
    context.progress(`${broker}: held ${result.held}, ${result.kibPerConnection} KiB each / giữ ${result.held}, ${result.kibPerConnection} KiB mỗi kết nối`);
    return result;
  } finally {
    await fleet?.stop();
    await server.stop();
  }
}
