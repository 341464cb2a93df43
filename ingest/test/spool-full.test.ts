/**
 * A full spool while InfluxDB is down: ingest holds its acknowledgements (the broker keeps the
 * messages), says so once, and stores every reading exactly once when InfluxDB is back — also when the
 * broker cut its connection meanwhile and delivers everything unacknowledged again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from 'aedes';
import { waitFor } from '@city/platform';
import { startStack, type Stack } from './helpers/stack.js';
import { connectDevice, publishMany } from './helpers/publish.js';

let stack: Stack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const SPOOL_MAX_BYTES = 8192;

describe('a full spool', () => {
  it('holds acknowledgements, says so once per episode, and loses nothing the broker acknowledged', async () => {
    const current = (stack = await startStack({
      SPOOL_MAX_BYTES: String(SPOOL_MAX_BYTES),
      INGEST_MAX_UNACKED: '100',
      // While paused ingest reads nothing, so it learns of a closed connection from its next PINGREQ failing.
      INGEST_KEEPALIVE_SECONDS: '2',
      BATCH_MAX_DELAY_MS: '20',
      LOG_LEVEL: 'info',
    }));
    let ingestClient: Client | undefined;
    current.broker.broker.on('clientReady', (client) => {
      if (client.id === 'service:ingest') ingestClient = client;
    });
    await current.startIngest();
    const devices = await Promise.all([0, 1, 2].map((d) => current.provision(`dn-tr-full-${d}`, 'traffic')));
    const clients = await Promise.all(devices.map((device) => connectDevice(current.mqttUrl, device.id, device.secret)));
    const perDevice = 1000;
    const base = Date.now() - 5 * 60_000;

    await current.influx.stop();
    await Promise.all(
      clients.map((client, d) =>
        publishMany(client, `devices/${devices[d]?.id}/telemetry`, perDevice, (i) => ({ ts: base + i, intensity: i, averageVehicleSpeed: 30, occupancy: 0.2 }), 20),
      ),
    );
    await waitFor('the spool to refuse batches again and again', async () => (await current.ingestMetric('ingest_spool_refused_batches_total')) >= 5, 30_000);
    expect(await current.ingestMetric('ingest_spool_full')).toBe(1);
    expect(await current.ingestMetric('ingest_spool_bytes')).toBeLessThanOrEqual(SPOOL_MAX_BYTES);
    expect(await current.ingestMetric('ingest_pending_acks')).toBeGreaterThan(0);

    // The broker drops ingest's connection; ingest must not keep the old copies beside the redelivered ones.
    ingestClient?.close();
    await waitFor('the held readings dropped on reconnecting', () => current.ingestLogs().some((msg) => msg.startsWith('reconnected: dropped')), 30_000);

    await current.influx.restart();
    await waitFor('every reading in InfluxDB', async () => (await current.count('traffic', 'intensity')) >= 3 * perDevice, 90_000);
    await waitFor(
      'the spool drained and every message acknowledged',
      async () =>
        (await current.ingestMetric('ingest_spool_full')) === 0 &&
        (await current.ingestMetric('ingest_spool_records')) === 0 &&
        (await current.ingestMetric('ingest_pending_acks')) === 0,
      30_000,
    );
    expect(await current.count('traffic', 'intensity')).toBe(3 * perDevice);
    const perDeviceCounts = await current.query('SELECT count("intensity") FROM "traffic" GROUP BY device_id');
    expect(perDeviceCounts.map((row) => row.count)).toEqual([perDevice, perDevice, perDevice]);

    const episodes = current.ingestLogs().filter((msg) => msg.startsWith('spool full') || msg.startsWith('the spool has room again'));
    expect(episodes[0]).toMatch(/^spool full/);
    expect(episodes.at(-1)).toMatch(/^the spool has room again/);
    // One line as each episode begins and one as it ends, however many batches the full spool refused.
    episodes.forEach((msg, i) => expect(msg.startsWith('spool full')).toBe(i % 2 === 0));
    await Promise.all(clients.map((client) => client.endAsync()));
  }, 180_000);
});
