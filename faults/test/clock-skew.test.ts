/**
 * Device clocks hours off, beside a fleet under steady load: a clock 3 h behind and one 3 h ahead are
 * refused with the reason told on the device's errors topic (never stored at the wrong hour), while a
 * device flushing its offline buffer — old timestamps, sound clock — lands at its true times, and the
 * load's readings are all stored.
 */
import { describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { DeviceClient, deviceTopic } from '@city/devices';
import { waitFor } from '@city/platform';
import { recordOutcome } from '../src/report.js';
import { accountForLoad, expectExactlyOnce, faultsUnderLoad } from './helpers/under-load.js';

const start = faultsUnderLoad();
const HOUR = 3_600_000;

/** A device speaking the contract as the SDK does (`sentAt` from its own clock), with its clock off by `offsetMs`. */
async function skewedDevice(url: string, id: string, secret: string, offsetMs: number) {
  const client: MqttClient = await mqtt.connectAsync(url, { clientId: id, username: id, password: secret, reconnectPeriod: 0 });
  const reasons: string[] = [];
  client.on('message', (_topic, payload) => {
    const notices = JSON.parse(String(payload)) as { reason: string } | { reason: string }[];
    reasons.push(...(Array.isArray(notices) ? notices : [notices]).map((notice) => notice.reason));
  });
  await client.subscribeAsync(deviceTopic(id, 'errors'), { qos: 0 });
  return {
    reasons,
    /** A reading taken `ageMs` ago by this device's clock, sent now. */
    send: (ageMs = 0) => {
      const clock = Date.now() + offsetMs;
      return client.publishAsync(deviceTopic(id, 'telemetry'), JSON.stringify({ sentAt: clock, ts: clock - ageMs, intensity: 900, averageVehicleSpeed: 40, occupancy: 0.2 }), { qos: 1 });
    },
    close: () => client.endAsync(),
  };
}

describe('device clocks hours off', () => {
  it('refuses a clock 3 h behind and one 3 h ahead with their reason, and stores an offline-buffer flush at its true times', async () => {
    const { stack, load } = await start({ loadSeconds: 20 });
    const outcome = { id: 'clock-skew', fault: 'device clocks 3 h behind and 3 h ahead; a sound device flushing 2 h of offline buffer', load: load.describe(), lost: 'not measured', recoverySeconds: null as number | null, passed: false, notes: '' };
    try {
      const behindId = 'dn-clock-behind';
      const aheadId = 'dn-clock-ahead';
      const bufferedId = 'dn-clock-buffered';
      const [behind, ahead, buffered] = await Promise.all([stack.provision(behindId, 'traffic'), stack.provision(aheadId, 'traffic'), stack.provision(bufferedId, 'traffic')]);
      const slow = await skewedDevice(stack.mqttUrl, behindId, behind.secret, -3 * HOUR);
      const fast = await skewedDevice(stack.mqttUrl, aheadId, ahead.secret, 3 * HOUR);

      // Live readings, and from the fast clock also a reading it thinks is 4 h old: 1 h ago by the true time, which the future limit alone would let through.
      for (let i = 0; i < 5; i++) {
        await slow.send();
        await fast.send();
        await fast.send(4 * HOUR);
      }
      await waitFor('both refusals told to the devices', () => slow.reasons.length > 0 && fast.reasons.length > 0, 10_000);
      expect(new Set(slow.reasons)).toEqual(new Set(['clock_behind']));
      expect(new Set(fast.reasons)).toEqual(new Set(['clock_ahead']));
      await waitFor('every refusal counted', async () => (await stack.ingestMetric('ingest_readings_rejected_total', { reason: 'clock_behind' })) === 5 && (await stack.ingestMetric('ingest_readings_rejected_total', { reason: 'clock_ahead' })) === 10, 10_000);

      // The SDK buffers readings taken while it is offline and sends them, with their own times, once connected.
      const device = new DeviceClient({ url: stack.mqttUrl, deviceId: bufferedId, secret: buffered.secret });
      const takenAt = [2 * HOUR, 90 * 60_000, HOUR, 30 * 60_000].map((age) => Date.now() - age);
      for (const ts of takenAt) expect(await device.publishTelemetry({ ts, intensity: 700, averageVehicleSpeed: 35, occupancy: 0.3 })).toEqual({ buffered: true });
      await device.connect();
      await waitFor('the offline buffer flushed', () => device.stats().acknowledged === takenAt.length, 10_000);
      await device.close();

      const accounting = await accountForLoad({ stack, load }, async () => (await stack.ingestMetric('ingest_pending_acks')) === 0);
      const times = await stack.query(`SELECT "intensity" FROM "traffic" WHERE device_id = '${bufferedId}' AND time > now() - 1d`);
      expect(times.map((row) => row.time)).toEqual(takenAt);
      expect(await stack.count('traffic', 'intensity', `WHERE device_id = '${behindId}' OR device_id = '${aheadId}'`)).toBe(0);
      outcome.lost = accounting.lost;
      outcome.notes = `every reading of the skewed clocks refused (5 clock_behind, 10 clock_ahead, told on devices/{id}/errors), none stored; the 4 buffered readings stored at their own times; ${accounting.summary.acknowledged} load readings acknowledged, ${accounting.stored.total} stored`;
      expectExactlyOnce(accounting);
      await Promise.all([slow.close(), fast.close()]);
      outcome.passed = true;
    } finally {
      recordOutcome(outcome);
    }
  }, 180_000);
});
