/**
 * The two promises of the durable path: a reading the broker acknowledged survives InfluxDB going away
 * and ingest being killed, and lands exactly once per (device, timestamp).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@city/platform';
import type { MqttClient } from 'mqtt';
import { startStack, type Stack } from './helpers/stack.js';
import { connectDevice, publishMany } from './helpers/publish.js';

let stack: Stack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function fleet(current: Stack, prefix: string, size: number): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  for (let i = 0; i < size; i++) {
    const device = await current.provision(`${prefix}-${i}`, 'traffic');
    clients.push(await connectDevice(current.mqttUrl, device.id, device.secret));
  }
  return clients;
}

const reading = (base: number, i: number) => ({ ts: base + i, intensity: 1000 + (i % 500), averageVehicleSpeed: 30, occupancy: 0.2 });

describe('durability', () => {
  it('keeps every one of 10,000 readings published while InfluxDB is stopped for 30 s, exactly once', async () => {
    const current = (stack = await startStack());
    await current.startIngest();
    const clients = await fleet(current, 'dn-tr-outage', 10);
    const perDevice = 1000;
    const base = Date.now() - 10 * 60_000;

    await current.influx.stop();
    const stoppedAt = Date.now();
    // Spread the publishing over most of the outage, as a live fleet would.
    await Promise.all(
      clients.map(async (client, d) => {
        for (let chunk = 0; chunk < 10; chunk++) {
          await publishMany(client, `devices/dn-tr-outage-${d}/telemetry`, perDevice / 10, (i) => reading(base, chunk * 100 + i), 20);
          await new Promise((resolve) => setTimeout(resolve, 2_000));
        }
      }),
    );
    await waitFor('the spool to hold the outage', async () => (await current.ingestMetric('ingest_spool_records')) > 0, 10_000);
    const remaining = 30_000 - (Date.now() - stoppedAt);
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
    await current.influx.restart();

    await waitFor('all 10,000 readings in InfluxDB', async () => (await current.count('traffic', 'intensity')) >= 10_000, 60_000);
    await waitFor('the spool to drain', async () => (await current.ingestMetric('ingest_spool_records')) === 0, 30_000);
    expect(await current.count('traffic', 'intensity')).toBe(10_000);
    const perSeries = await current.query('SELECT count("intensity") FROM "traffic" GROUP BY device_id');
    expect(perSeries).toHaveLength(10);
    await Promise.all(clients.map((client) => client.endAsync()));
  }, 180_000);

  it('loses no QoS 1 reading when ingest is SIGKILLed mid-stream and restarted', async () => {
    const current = (stack = await startStack());
    await current.startIngest();
    const clients = await fleet(current, 'dn-tr-kill', 5);
    const perDevice = 1000;
    const base = Date.now() - 10 * 60_000;
    let acknowledged = 0;

    const publishing = Promise.all(
      clients.map((client, d) =>
        publishMany(client, `devices/dn-tr-kill-${d}/telemetry`, perDevice, (i) => reading(base, i), 10, () => {
          acknowledged++;
        }),
      ),
    );
    await waitFor('ingest to be mid-stream', () => acknowledged > 1500, 30_000);
    await current.killIngest();
    const atKill = acknowledged;
    await waitFor('devices to keep publishing with ingest gone', () => acknowledged > atKill + 500, 30_000);
    await current.startIngest();
    await publishing;

    await waitFor('all 5,000 readings in InfluxDB', async () => (await current.count('traffic', 'intensity')) >= 5000, 60_000);
    expect(await current.count('traffic', 'intensity')).toBe(5000);
    await Promise.all(clients.map((client) => client.endAsync()));
  }, 180_000);
});
