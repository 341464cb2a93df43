/**
 * Runs the hostile messages and raw attacks against a broker, in parallel lanes, and tallies what the
 * platform owes for them: the rejections ingest and the broker must have counted, by reason. Each lane
 * draws from its own seed, so the whole run is a function of the seed and the lane count.
 */
import type { DeviceKind, RejectionReason } from '@city/devices';
import { hostileMessage, type HostileContext } from './hostile-payloads.js';
import { RawMqttClient, rawAttack, type RawAttack } from './raw-mqtt.js';
import { SeededRandom } from './seeded-random.js';

export interface FuzzDevice {
  id: string;
  secret: string;
}

/** A lane's devices: one sends hostile telemetry, one forbidden topics, one opens raw connections (each connection takes over its id's session). */
export interface FuzzLane {
  kind: DeviceKind;
  telemetry: FuzzDevice;
  topics: FuzzDevice;
  raw: FuzzDevice;
}

export interface FuzzOptions {
  port: number;
  seed: number;
  /** Hostile messages and attacks in all, shared between the lanes. */
  count: number;
  lanes: FuzzLane[];
  maxPacketBytes: number;
  /** A registered device none of the lanes is, for the topics that reach for another device. */
  victimId: string;
  /** Share of the count sent as raw TCP-level attacks, each on its own connection. */
  rawShare?: number;
  /** Hostile telemetry messages a lane has unacknowledged at once. */
  window?: number;
}

export interface FuzzTally {
  sent: number;
  byCategory: Record<string, number>;
  /** Telemetry messages delivered to ingest's subscription. */
  ingestMessages: number;
  /** Rejections ingest must count, by reason. */
  ingest: Partial<Record<RejectionReason, number>>;
  /** mqtt_rejections_total, by reason. */
  broker: Record<string, number>;
  /** mqtt_connects_refused_total, by reason. */
  refused: Record<string, number>;
  /** Connections of random bytes: each owes exactly one connection-level rejection, of whatever reason. */
  anyConnectionReason: number;
  /** Attacks that did not end as they should have (a connection the broker kept open, a publish it never acknowledged). */
  anomalies: string[];
}

/** The broker forgives this many refused publishes on a connection; the lane reconnects before it runs out. */
const TOPIC_ATTACKS_PER_CONNECTION = 10;
const ATTACK_DEADLINE_MS = 15_000;

export async function runFuzzer(options: FuzzOptions): Promise<FuzzTally> {
  const tally: FuzzTally = { sent: 0, byCategory: {}, ingestMessages: 0, ingest: {}, broker: {}, refused: {}, anyConnectionReason: 0, anomalies: [] };
  const rawShare = options.rawShare ?? 0.05;
  const perLane = Math.ceil(options.count / options.lanes.length);
  await Promise.all(
    options.lanes.map((lane, index) => {
      const quota = Math.max(0, Math.min(perLane, options.count - index * perLane));
      const raw = Math.round(quota * rawShare);
      return Promise.all([
        runMessages(options, lane, new SeededRandom(options.seed * 1000 + index * 2), quota - raw, tally),
        runAttacks(options, lane, new SeededRandom(options.seed * 1000 + index * 2 + 1), raw, tally),
      ]);
    }),
  );
  return tally;
}

function add<K extends string>(counts: Partial<Record<K, number>>, key: K, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

async function runMessages(options: FuzzOptions, lane: FuzzLane, random: SeededRandom, count: number, tally: FuzzTally): Promise<void> {
  const telemetryTopic = `devices/${lane.telemetry.id}/telemetry`;
  const context: HostileContext = {
    deviceId: lane.telemetry.id,
    kind: lane.kind,
    otherDeviceId: options.victimId,
    atLimitPayloadBytes: options.maxPacketBytes - 4 - Buffer.byteLength(telemetryTopic),
    now: Date.now(),
  };
  const telemetry = await RawMqttClient.connect(options.port, lane.telemetry.id, lane.telemetry.secret);
  let topics: RawMqttClient | undefined;
  let topicAttacks = 0;
  const inFlight = new Set<Promise<void>>();
  const window = options.window ?? 50;
  for (let i = 0; i < count; i++) {
    const message = hostileMessage(random, { ...context, now: Date.now() });
    tally.sent++;
    add(tally.byCategory, message.category);
    if (message.mode === 'telemetry') {
      while (inFlight.size >= window) await Promise.race(inFlight);
      tally.ingestMessages++;
      for (const [reason, n] of Object.entries(message.rejections) as [RejectionReason, number][]) add(tally.ingest, reason, n);
      const publishing = telemetry.publish(telemetryTopic, message.payload).catch((error: Error) => {
        tally.anomalies.push(`${message.category}: ${error.message}`);
      });
      inFlight.add(publishing);
      void publishing.finally(() => inFlight.delete(publishing));
      continue;
    }
    if (!topics || topicAttacks === TOPIC_ATTACKS_PER_CONNECTION) {
      await topics?.disconnect();
      topics = await RawMqttClient.connect(options.port, lane.topics.id, lane.topics.secret);
      topicAttacks = 0;
    }
    topicAttacks++;
    add(tally.broker, 'acl_publish');
    await topics.publish(message.topic, message.payload).catch((error: Error) => tally.anomalies.push(`${message.category} ${message.topic.slice(0, 60)}: ${error.message}`));
  }
  await Promise.all(inFlight);
  await telemetry.disconnect();
  await topics?.disconnect();
}

async function runAttacks(options: FuzzOptions, lane: FuzzLane, random: SeededRandom, count: number, tally: FuzzTally): Promise<void> {
  for (let i = 0; i < count; i++) {
    const attack = rawAttack(random, { deviceId: lane.raw.id, maxPacketBytes: options.maxPacketBytes });
    tally.sent++;
    add(tally.byCategory, attack.category);
    if (!attack.expect) tally.anyConnectionReason++;
    else if (attack.expect.metric === 'mqtt_rejections_total') add(tally.broker, attack.expect.reason);
    else add(tally.refused, attack.expect.reason);
    const outcome = await carryOut(options.port, lane.raw, attack);
    if (outcome) tally.anomalies.push(`${attack.category} ${attack.bytes.subarray(0, 16).toString('hex')}: ${outcome}`);
  }
}

/** One attack on its own connection; returns what went wrong, if anything. */
async function carryOut(port: number, device: FuzzDevice, attack: RawAttack): Promise<string | undefined> {
  const client = attack.authenticated ? await RawMqttClient.connect(port, device.id, device.secret) : await RawMqttClient.open(port);
  client.socket.write(attack.bytes);
  if (!attack.brokerCloses) client.socket.end();
  let deadline: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    client.closed.then(() => true),
    new Promise<boolean>((resolve) => {
      deadline = setTimeout(() => resolve(false), ATTACK_DEADLINE_MS);
    }),
  ]);
  clearTimeout(deadline);
  if (closed) return undefined;
  client.socket.destroy();
  return `the broker kept the connection open for ${ATTACK_DEADLINE_MS / 1000} s`;
}
