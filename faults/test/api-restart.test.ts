/**
 * The api SIGKILLed and restarted under a steady QoS 1 load: it rebuilds its live state (retained presence and
 * the latest readings, for devices and layers), keeps its incidents, and stream clients come back to a new snapshot.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@city/platform';
import { startPlatform, type PlatformStack } from '../src/platform-stack.js';
import { recordOutcome } from '../src/report.js';
import { watchStream, type StreamWatcher } from '../src/stream-watcher.js';

/** Every kind, four of each: the environment layer shows the air-quality stations and noise meters among them. */
const DEVICES = 24;
const RATE = 120;
const DURATION_S = process.env.FAULTS_LONG === '1' ? 120 : 30;

let stack: PlatformStack | undefined;
let watcher: StreamWatcher | undefined;
afterEach(async () => {
  watcher?.close();
  await stack?.close();
  stack = undefined;
});

interface LiveDevice {
  id: string;
  presence: string;
  reading: Record<string, unknown> | null;
}
interface Layer {
  features: { properties: Record<string, unknown> }[];
}

const PROBE = 'load-traffic-0';

describe('the api SIGKILLed and restarted under load', () => {
  it('rebuilds presence and latest readings, keeps incidents and gives reconnecting stream clients a snapshot', async () => {
    const current = (stack = await startPlatform());
    let outcome: Parameters<typeof recordOutcome>[0] = {
      id: 'api-restart-sigkill',
      fault: 'api SIGKILL and restarted',
      load: `load generator --sdk, ${DEVICES} devices of every kind, ${RATE} readings/s, QoS 1, ${DURATION_S} s`,
      lost: 'not measured (test failed early)',
      recoverySeconds: null,
      passed: false,
    };
    try {
      const loading = current.load({ devices: DEVICES, rate: RATE, durationS: DURATION_S, payload: 'mixed' });
      let loadEnded = false;
      void loading.finally(() => (loadEnded = true)).catch(() => undefined);
      const liveProbe = async () => current.apiGet<LiveDevice>(`/api/v1/devices/${PROBE}`).catch(() => undefined);
      await waitFor('live readings in the api', async () => (await liveProbe())?.reading != null, 60_000, 200);

      const incident = await current.apiPost<{ id: string }>('/api/v1/incidents', {
        type: 'road_works',
        category: 'traffic',
        severity: 'medium',
        description: 'fault suite: must outlive an api restart',
        lon: 108.2208,
        lat: 16.0544,
      });
      watcher = watchStream(`${current.baseUrl.replace('http', 'ws')}/api/v1/stream`, current.token);
      await waitFor('a first snapshot', () => watcher?.snapshots.length === 1, 20_000);

      const downAt = Date.now();
      await current.api.stop('SIGKILL');
      await current.api.start();
      const upAt = Date.now();

      let probe: LiveDevice | undefined;
      await waitFor('presence and the latest reading rebuilt', async () => {
        probe = await liveProbe();
        return probe?.presence === 'online' && probe.reading != null;
      }, 30_000, 200);
      const rebuiltAt = Date.now();
      await waitFor('the stream client back with a new snapshot', () => (watcher?.snapshots.length ?? 0) >= 2, 30_000, 100);
      const snapshot = watcher.snapshots.at(-1);
      const devices = await current.apiGet<LiveDevice[]>('/api/v1/devices');
      const online = devices.filter((device) => device.id.startsWith('load-') && device.presence === 'online').length;
      const layer = await current.apiGet<Layer>('/api/v1/layers/environment');
      const stations = layer.features.filter((feature) => String(feature.properties.id).startsWith('load-'));
      const kept = await current.apiGet<{ id: string; status: string }>(`/api/v1/incidents/${incident.id}`);
      const duringLoad = !loadEnded;

      const summary = await loading;
      outcome = {
        ...outcome,
        lost: `nothing the api keeps: incident ${kept.status}; ${online}/${DEVICES} devices online; ${summary.acknowledged - summary.sent} readings unacknowledged`,
        recoverySeconds: (Math.max(rebuiltAt, snapshot?.receivedAt ?? rebuiltAt) - downAt) / 1000,
        notes: `answering ${((upAt - downAt) / 1000).toFixed(1)} s after the kill; live state rebuilt ${((rebuiltAt - upAt) / 1000).toFixed(1)} s later; stream clients back with a snapshot of ${snapshot?.devices.length ?? 0} devices`,
      };

      expect(duringLoad).toBe(true);
      expect(online).toBe(DEVICES);
      expect(kept).toMatchObject({ id: incident.id, status: 'open' });
      expect(snapshot?.incidents.map((open) => open.id)).toContain(incident.id);
      expect(snapshot?.devices.filter((device) => device.id.startsWith('load-'))).toHaveLength(DEVICES);
      expect(stations).toHaveLength(DEVICES / 3);
      expect(stations.filter((station) => station.properties.presence === 'online' && typeof station.properties.readingTs === 'number')).toHaveLength(DEVICES / 3);
      expect(summary.acknowledged).toBe(summary.sent);
      outcome.passed = true;
    } finally {
      recordOutcome(outcome);
    }
  }, 240_000);
});
