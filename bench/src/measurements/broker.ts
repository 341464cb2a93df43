/**
 * Measurement 2: fan-in throughput of our broker against Mosquitto on the same load. Many device connections
 * (spread over worker processes) publish to one consumer subscribed the way ingest is, at QoS 0 and QoS 1; the
 * figure is the messages per second the consumer receives. The brokers take turns (ours, Mosquitto, ours, …) so
 * that the machine's drift hits both.
 */
import { atLeast } from '../report.js';
import type { BenchContext, Measurement } from '../measurement.js';
import { benchDevices, type BenchDevice } from '../devices.js';
import { startFleet, type FleetTotals } from '../mqtt/fleet.js';
import { subscribe } from '../mqtt/subscriber.js';
import { startMosquitto } from '../servers/mosquitto.js';
import { startPlatformBroker } from '../servers/platform-broker.js';
import { processCpuSeconds } from '../process-cpu.js';
import { round } from '../stats.js';

/** Below the broker's default DEVICE_RATE_LIMIT of 10 messages/s per device (burst 100), so that none is throttled. */
const PER_DEVICE_RATE = 8;
const WORKERS = 3;
/** A broker still delivering its backlog this many phase lengths after the devices stopped is counted as far as it got. */
const DRAIN_ALLOWANCE = 2;
const CONSUMER = { mosquitto: 'ingest-service', ours: 'service:ingest', 'ours-memory': 'service:ingest' };
/** A telemetry reading of the usual size; brokers do not read payloads, so one per device is as good as many. */
const PAYLOAD = JSON.stringify({ sentAt: 1764400000000, ts: 1764400000000, intensity: 1234, averageVehicleSpeed: 37.25, occupancy: 0.412 });

type BrokerName = 'ours' | 'ours-memory' | 'mosquitto';
type Qos = 0 | 1;

interface Phase {
  broker: BrokerName;
  qos: Qos;
  round: number;
  /** Messages/s the consumer received, from the first publish to the last message it got (the broker's backlog included). */
  delivered: number;
  /** Messages/s the consumer received while the devices published. */
  deliveredWhilePublishing: number;
  offered: number;
  sent: number;
  acknowledged: number;
  received: number;
  skipped: number;
  /** How long the consumer kept receiving after the devices stopped. */
  drainS: number;
  /** CPU cores each side used over the phase. */
  brokerCores: number;
  /** The broker's CPU time per message delivered: what decides its rate on a machine it shares. */
  brokerCpuMicrosPerMessage: number;
  clientCores: number;
  consumerCores: number;
}

interface Settings {
  devices: number;
  phaseS: number;
  rounds: number;
}

export const brokerThroughput: Measurement = {
  name: 'broker',
  title: 'Broker fan-in throughput vs Mosquitto / Thông lượng broker so với Mosquitto',
  declares: [
    { name: 'broker_qos1_vs_mosquitto_ratio', unit: 'ratio', target: '>= 0.8' },
    { name: 'broker_qos0_vs_mosquitto_ratio', unit: 'ratio', target: '>= 0.8' },
  ],
  async run(context) {
    const settings: Settings = {
      devices: Number(process.env.BENCH_BROKER_DEVICES ?? (context.quick ? 3000 : 5000)),
      phaseS: context.quick ? 4 : 12,
      rounds: context.quick ? 1 : 2,
    };
    const devices = await benchDevices(settings.devices, context.dataDir, context.progress);
    const phases: Phase[] = [];
    for (let r = 0; r < settings.rounds; r++) {
      // The memory store's figure only explains ours; --quick leaves it out to stay short.
      for (const broker of context.quick ? (['ours', 'mosquitto'] as const) : (['ours', 'mosquitto', 'ours-memory'] as const)) phases.push(...(await runBroker(broker, r, devices, settings, context)));
    }
    const rate = (broker: BrokerName, qos: Qos) => {
      const chosen = phases.filter((p) => p.broker === broker && p.qos === qos);
      return chosen.length ? chosen.reduce((sum, p) => sum + p.delivered, 0) / chosen.length : Number.NaN;
    };
    const ratio = (qos: Qos, broker: BrokerName = 'ours') => round(rate(broker, qos) / rate('mosquitto', qos));
    const offered = settings.devices * PER_DEVICE_RATE;
    const notes = [
      `${settings.devices} device connections over ${WORKERS} load processes, each publishing ${PER_DEVICE_RATE} messages/s (offered ${offered}/s; the broker's limit is 10/s per device, burst 100), ${settings.phaseS} s per phase, ${settings.rounds} round(s) alternating ours and Mosquitto.`,
      'Ours: broker/src/index.ts as npm start runs it (registry authentication, ACL, rate limits, its durable store: a write-ahead log synced before each QoS 1 PUBACK). Mosquitto 2: password_file + acl_file, no persistence, unbounded in-flight and queue towards the consumer like aedes.',
      'The consumer subscribes like ingest (persistent session, QoS 1 on devices/+/telemetry) and acknowledges each message on arrival. Throughput = messages it received / time from the first publish to the last message (a broker that falls behind pays for its backlog), waiting at most 2 phase lengths after the devices stop.',
    ];
    if (!context.quick) {
      notes.push("ours-memory: the same broker with BROKER_STORE=memory (sessions in memory), to tell the broker's own cost from its store's; informative, not a target.");
    }
    for (const qos of [0, 1] as const) {
      if (ratio(qos) < 0.8) notes.push(`QoS ${qos}: ours delivered ${Math.round(rate('ours', qos))}/s against Mosquitto's ${Math.round(rate('mosquitto', qos))}/s; ${limitNote(phases, qos)}`);
    }
    return {
      targets: [atLeast('broker_qos1_vs_mosquitto_ratio', ratio(1), 0.8, 'ratio'), atLeast('broker_qos0_vs_mosquitto_ratio', ratio(0), 0.8, 'ratio')],
      raw: {
        settings: { ...settings, perDeviceRate: PER_DEVICE_RATE, offeredPerS: offered, workers: WORKERS, payloadBytes: PAYLOAD.length },
        deliveredPerS: Object.fromEntries((['ours', 'mosquitto', 'ours-memory'] as const).filter((b) => phases.some((p) => p.broker === b)).map((b) => [b, { qos0: Math.round(rate(b, 0)), qos1: Math.round(rate(b, 1)) }])),
        memoryStoreVsMosquitto: { qos0: ratio(0, 'ours-memory'), qos1: ratio(1, 'ours-memory') },
        phases,
      },
      notes,
    };
  },
};

function limitNote(phases: Phase[], qos: Qos): string {
  const mean = (broker: BrokerName, key: 'brokerCores' | 'brokerCpuMicrosPerMessage') => {
    const chosen = phases.filter((p) => p.broker === broker && p.qos === qos);
    return chosen.reduce((sum, p) => sum + p[key], 0) / chosen.length;
  };
  const cost = `our broker spent ${mean('ours', 'brokerCpuMicrosPerMessage').toFixed(1)} µs of CPU per message delivered (${mean('ours', 'brokerCores').toFixed(2)} cores) against Mosquitto's ${mean('mosquitto', 'brokerCpuMicrosPerMessage').toFixed(1)} µs`;
  const whilePublishing = phases.filter((p) => p.broker === 'ours' && p.qos === qos).map((p) => p.deliveredWhilePublishing);
  const shared = `While the devices published, the consumer got ${whilePublishing.join(', ')} messages/s from ours (a socket is not read while more than 1,000 messages wait for delivery: broker/src/input-gate.ts). On a machine shared with the load the broker gets a share of a core, and what it does per message costs about twice Mosquitto's: aedes' delivery to the consumer (a packet copy, a promise and callbacks per message, mqtt-packet's writer), one system call per PUBACK, and the garbage of both`;
  if (qos === 0) return `${cost}. ${shared}; QoS 0 PUBLISH packets go through aedes' parser and pipeline too (broker/src/lean-publish.ts takes QoS 1 only).`;
  return `${cost}. ${shared}, and the durable store: each QoS 1 message is written to the log and synced (group commit) before its PUBACK, queued for the consumer's persistent session, and removed on the consumer's PUBACK, so a disk slow to sync holds the devices' PUBACKs. The full run's ours-memory figures show the broker without that store. Devices' QoS 1 PUBLISH and the consumer's PUBACKs already skip aedes' parser and pipeline (broker/src/lean-publish.ts); what remains is mostly the delivery path.`;
}

async function runBroker(broker: BrokerName, roundIndex: number, devices: BenchDevice[], settings: Settings, context: BenchContext): Promise<Phase[]> {
  context.progress(`round ${roundIndex + 1}: ${broker} — starting / vòng ${roundIndex + 1}: ${broker} — khởi động`);
  const consumerPassword = 'bench-consumer-password';
  const server =
    broker !== 'mosquitto'
      ? await startPlatformBroker(context.dataDir, { store: broker === 'ours' ? 'file' : 'memory' })
      : { ...(await startMosquitto(context.dataDir, devices, { username: CONSUMER.mosquitto, password: consumerPassword })), serviceSecret: consumerPassword };
  let fleet: ReturnType<typeof startFleet> | undefined;
  let consumer: Awaited<ReturnType<typeof subscribe>> | undefined;
  try {
    const username = CONSUMER[broker];
    consumer = await subscribe({ host: '127.0.0.1', port: server.port, clientId: `${username}-bench`, username, password: server.serviceSecret, topic: 'devices/+/telemetry' });
    fleet = startFleet({ host: '127.0.0.1', port: server.port, devices, workers: WORKERS, keepaliveS: 60, connectConcurrency: 25, payload: PAYLOAD });
    const connected = await fleet.connected;
    if (connected.connected < devices.length) throw new Error(`${broker}: only ${connected.connected} of ${devices.length} devices connected`);
    context.progress(`${broker}: ${connected.connected} devices connected / đã kết nối`);
    const phases: Phase[] = [];
    for (const qos of [0, 1] as const) {
      const receivedBefore = consumer.received;
      const brokerCpuS = processCpuSeconds(server.pid);
      const consumerCpu = process.cpuUsage();
      const started = performance.now();
      const totals: FleetTotals = await fleet.publish({ type: 'publish', perDeviceRate: PER_DEVICE_RATE, qos, durationMs: settings.phaseS * 1000, maxInFlightPerDevice: 20 });
      const publishS = (performance.now() - started) / 1000;
      const duringPublish = consumer.received - receivedBefore;
      const lastDelivery = await settle(() => consumer?.received ?? 0, settings.phaseS * DRAIN_ALLOWANCE);
      const seconds = Math.max(publishS, (lastDelivery - started) / 1000);
      const total = consumer.received - receivedBefore;
      const consumerUsage = process.cpuUsage(consumerCpu);
      const phase: Phase = {
        broker,
        qos,
        round: roundIndex + 1,
        delivered: Math.round(total / seconds),
        deliveredWhilePublishing: Math.round(duringPublish / publishS),
        offered: devices.length * PER_DEVICE_RATE,
        sent: totals.sent,
        acknowledged: totals.acknowledged,
        received: total,
        skipped: totals.skipped,
        drainS: round(seconds - publishS, 1),
        brokerCores: round((processCpuSeconds(server.pid) - brokerCpuS) / seconds, 2),
        brokerCpuMicrosPerMessage: total > 0 ? round(((processCpuSeconds(server.pid) - brokerCpuS) * 1e6) / total, 1) : Number.NaN,
        clientCores: round(totals.cpuMs / 1000 / publishS, 2),
        consumerCores: round((consumerUsage.user + consumerUsage.system) / 1e6 / seconds, 2),
      };
      context.progress(`${broker} QoS ${qos}: ${phase.delivered} messages/s delivered (broker ${phase.brokerCores} cores, load ${phase.clientCores}) / tin/giây nhận được`);
      phases.push(phase);
    }
    return phases;
  } finally {
    await fleet?.stop();
    consumer?.close();
    await server.stop();
  }
}

/** Waits until the consumer has received nothing new for a second, at most `limitS`; returns when it last received (performance.now()). */
async function settle(received: () => number, limitS: number): Promise<number> {
  const deadline = performance.now() + limitS * 1000;
  let count = received();
  let changedAt = performance.now();
  while (performance.now() - changedAt < 1000 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (received() !== count) {
      count = received();
      changedAt = performance.now();
    }
  }
  return changedAt;
}
