/**
 * Clients that abuse the broker without sending a bad byte: a service subscriber that stops reading, and a
 * device publishing at a hundred times its rate. Valid devices at the broker's production limits must not
 * notice either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_KINDS, type DeviceKind } from '@city/devices';
import { waitFor } from '@city/platform';
import { startStack, type Stack } from '../../ingest/test/helpers/stack.js';
import { validReading } from '../src/hostile-payloads.js';
import { mebibytes, settledMemoryBytes } from '../src/memory.js';
import { RawMqttClient } from '../src/raw-mqtt.js';
import { recordOutcome } from '../src/report.js';
import { countsByReason } from '../src/scrape.js';
import { SteadyFleet, type FleetDevice } from '../src/steady-fleet.js';

const RATE_LIMIT = 10;
const VALID_DEVICES = 12;
const VALID_RATE = 60;
const DRAIN_TIMEOUT_MS = 30_000;
const STALL_BOUND_S = 10;
const BURST = 100;
const FLOOD_SECONDS = 10;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ DEVICE_RATE_LIMIT: String(RATE_LIMIT), DEVICE_RATE_BURST: String(BURST), BROKER_DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS) });
  await stack.startIngest();
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

async function provisionFleet(prefix: string): Promise<FleetDevice[]> {
  const devices: FleetDevice[] = [];
  for (let i = 0; i < VALID_DEVICES; i++) {
    const kind = DEVICE_KINDS[i % DEVICE_KINDS.length] as DeviceKind;
    devices.push({ ...(await stack.provision(`${prefix}-${kind}-${i}`, kind)), kind });
  }
  return devices;
}

const storedOf = async (devices: FleetDevice[]) => {
  const counts: Record<string, number> = {};
  for (const device of devices) counts[device.id] = await stack.count(device.kind, Object.keys(validReading(device.kind))[0] as string, `WHERE device_id = '${device.id}'`);
  return counts;
};
const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Publishes `payload` at QoS 1 on the device's telemetry topic, `perSecond` times a second, until stopped. */
function pace(client: RawMqttClient, topic: string, payload: Buffer, perSecond: number): { stop(): Promise<{ sent: number; acknowledged: number }> } {
  let sent = 0;
  let acknowledged = 0;
  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    sent++;
    const publishing = client.publish(topic, payload).then(
      () => void acknowledged++,
      () => undefined,
    );
    inFlight.add(publishing);
    void publishing.finally(() => inFlight.delete(publishing));
  }, 1000 / perSecond);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      return { sent, acknowledged };
    },
  };
}

describe('abusive clients', () => {
  it('a subscriber that reads nothing neither stalls the others nor grows the broker without bound', async () => {
    const valid = await provisionFleet('slowtest');
    const fleet = await SteadyFleet.start(stack.mqttUrl, valid, VALID_RATE);
    await waitFor('the valid fleet warmed up', () => fleet.acknowledged >= VALID_RATE * 2, 60_000);
    const heapBefore = settledMemoryBytes();

    const slow = await RawMqttClient.connect(stack.broker.mqttPort, 'service:slow-1', stack.serviceSecret, 'service:slow');
    await slow.subscribe('devices/+/telemetry', 1);
    slow.socket.pause();
    const slowSince = performance.now();

    // Big messages fill the slow reader's socket in seconds rather than hours: 8 devices × 8/s × 60 KB.
    const bulk = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const device = await stack.provision(`bulk-${i}`, 'noise');
        const client = await RawMqttClient.connect(stack.broker.mqttPort, device.id, device.secret);
        return { client, pacer: pace(client, `devices/${device.id}/telemetry`, Buffer.from(JSON.stringify({ padding: 'x'.repeat(60_000) })), 8) };
      }),
    );

    // Ingest's intake, sampled until well after the broker let go of the slow subscriber: a stall shows as a gap.
    const intake: { at: number; messages: number }[] = [];
    const sampler = setInterval(() => {
      void stack.ingestMetric('ingest_messages_received_total').then((messages) => intake.push({ at: performance.now(), messages }));
    }, 250);
    await waitFor('the broker to cut the slow subscriber', async () => ((await countsByReason(stack.broker.metricsPort, 'mqtt_rejections_total')).slow_consumer ?? 0) >= 1, 120_000, 200);
    const cutAfter = (performance.now() - slowSince) / 1000;
    const intakeAtCut = intake.length;
    await waitFor('ingest to go on for 5 s after the cut', () => intake.length >= intakeAtCut + 20, 60_000, 250);
    clearInterval(sampler);
    let longestGap = 0;
    let movedAt = intake[0]?.at ?? slowSince;
    for (let i = 1; i < intake.length; i++) {
      if ((intake[i]?.messages ?? 0) > (intake[i - 1]?.messages ?? 0)) movedAt = intake[i]?.at as number;
      longestGap = Math.max(longestGap, ((intake[i]?.at as number) - movedAt) / 1000);
    }

    const bulkSent = await Promise.all(bulk.map(({ pacer }) => pacer.stop()));
    await Promise.all(bulk.map(({ client }) => client.disconnect()));
    const report = await fleet.stop();
    await waitFor('every acknowledged valid reading stored', async () => total(await storedOf(valid)) >= report.acknowledged, 60_000, 500);
    const heapAfter = settledMemoryBytes();
    const stored = await storedOf(valid);
    const rejections = await countsByReason(stack.broker.metricsPort, 'mqtt_rejections_total');

    const heapRise = heapAfter - heapBefore;
    // What the broker may hold for the blocked client: MQTT_MAX_QUEUED_BYTES (8 MiB) and a packet, plus 8 MiB of slack for the rest.
    const heapBound = 16 * 1024 * 1024 + 65_536;
    const lost = report.acknowledged - total(stored);
    recordOutcome({
      id: 'slow-consumer',
      fault: 'a service subscriber on devices/+/telemetry that never reads, while 8 devices publish 60 KB messages at 64/s',
      load: `SDK devices: ${VALID_DEVICES} at ${VALID_RATE} readings/s, QoS 1; p99 ${report.latencyMs.p99} ms, max ${report.latencyMs.max} ms`,
      lost: lost === 0 ? 'nothing' : `${lost} valid readings`,
      recoverySeconds: null,
      passed: longestGap < STALL_BOUND_S && lost === 0 && heapRise <= heapBound && report.acknowledged === report.sent,
      notes: `the broker cut the subscriber as slow_consumer ${cutAfter.toFixed(1)} s after it stopped reading; ingest's longest pause in taking messages ${longestGap.toFixed(1)} s (aedes alone stalls every client until its drain timeout, ${DRAIN_TIMEOUT_MS / 1000} s); broker heap ${mebibytes(heapBefore)} → ${mebibytes(heapAfter)} MiB; ${bulkSent.reduce((a, b) => a + b.acknowledged, 0)} bulk messages acknowledged`,
    });

    // Generous against scheduling on a busy machine, and far below a stall until the drain timeout.
    expect(longestGap).toBeLessThan(STALL_BOUND_S);
    expect(rejections.slow_consumer).toBe(1);
    expect(rejections.drain_timeout).toBeUndefined();
    expect(report.acknowledged).toBe(report.sent);
    expect(stored).toEqual(Object.fromEntries(valid.map((device) => [device.id, report.acknowledgedPerDevice[device.id] ?? 0])));
    expect(heapRise).toBeLessThanOrEqual(heapBound);
  }, 240_000);

  it('a device flooding at 100 times its rate is throttled and cut, however often it reconnects; the others all land', async () => {
    const valid = await provisionFleet('floodtest');
    const flooder = await stack.provision('flooder', 'noise');
    const fleet = await SteadyFleet.start(stack.mqttUrl, valid, VALID_RATE);
    await waitFor('the valid fleet warmed up', () => fleet.acknowledged >= VALID_RATE * 2, 60_000);
    const before = await countsByReason(stack.broker.metricsPort, 'mqtt_rejections_total');

    // 100 × DEVICE_RATE_LIMIT, reconnecting at once whenever the broker cuts it, for FLOOD_SECONDS.
    const floodRate = RATE_LIMIT * 100;
    const base = Date.now() - 60_000;
    const startedAt = performance.now();
    let sent = 0;
    let connections = 0;
    while (performance.now() - startedAt < FLOOD_SECONDS * 1000) {
      const client = await RawMqttClient.connect(stack.broker.mqttPort, flooder.id, flooder.secret);
      connections++;
      while (!client.socket.destroyed && performance.now() - startedAt < FLOOD_SECONDS * 1000) {
        const due = Math.floor(((performance.now() - startedAt) / 1000) * floodRate);
        for (; sent < due && !client.socket.destroyed; sent++) void client.publish(`devices/${flooder.id}/telemetry`, Buffer.from(JSON.stringify({ ts: base + sent, LAeq: 99, LAmax: 120 }))).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await client.disconnect();
    }
    const floodSeconds = (performance.now() - startedAt) / 1000;
    const report = await fleet.stop();
    await waitFor('every acknowledged valid reading stored', async () => total(await storedOf(valid)) >= report.acknowledged, 60_000, 500);
    const stored = await storedOf(valid);
    const flooderStored = await stack.count('noise', 'LAeq', `WHERE device_id = '${flooder.id}'`);
    const after = await countsByReason(stack.broker.metricsPort, 'mqtt_rejections_total');
    const rateLimited = (after.rate_limited ?? 0) - (before.rate_limited ?? 0);
    const cut = (after.disconnected_for_violations ?? 0) - (before.disconnected_for_violations ?? 0);
    // The bucket's burst, then its rate: what the device would have had publishing steadily.
    const allowance = BURST + RATE_LIMIT * Math.ceil(floodSeconds + 1);
    const lost = report.acknowledged - total(stored);

    recordOutcome({
      id: 'device-flood',
      fault: `one device publishing ${floodRate}/s (100 × DEVICE_RATE_LIMIT) for ${floodSeconds.toFixed(0)} s, reconnecting whenever cut`,
      load: `SDK devices: ${VALID_DEVICES} at ${VALID_RATE} readings/s, QoS 1; p99 ${report.latencyMs.p99} ms, max ${report.latencyMs.max} ms`,
      lost: lost === 0 ? 'nothing' : `${lost} valid readings`,
      recoverySeconds: null,
      passed: lost === 0 && flooderStored <= allowance && cut >= 1 && report.acknowledged === report.sent,
      notes: `${sent} flood messages on ${connections} connections: ${flooderStored} stored (allowance ${allowance}), ${rateLimited} rate_limited, cut ${cut} times`,
    });

    expect(cut).toBeGreaterThanOrEqual(1);
    expect(rateLimited).toBeGreaterThan(0);
    expect(flooderStored).toBeGreaterThan(0);
    expect(flooderStored).toBeLessThanOrEqual(allowance);
    expect(report.acknowledged).toBe(report.sent);
    expect(report.reconnects).toBe(0);
    expect(stored).toEqual(Object.fromEntries(valid.map((device) => [device.id, report.acknowledgedPerDevice[device.id] ?? 0])));
  }, 240_000);
});
