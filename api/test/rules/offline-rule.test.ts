import { afterEach, describe, expect, it } from 'vitest';
import type { LiveDevice } from '../../src/live/types.js';
import { Bench, MINUTE, SECOND, T0, liveDevice, report, setPresence } from './fixtures.js';

let bench: Bench;
afterEach(() => bench?.close());

const TRAFFIC = { intensity: 600, averageVehicleSpeed: 40, occupancy: 0.2 };
const offline = () => bench.incidents('device_offline');
const outages = () => bench.incidents('devices_offline');

/** 30 traffic sensors reporting every minute, the i-th at T0 + 2i s: last readings spread over a minute, as in a real fleet. */
function fleet(count = 30): LiveDevice[] {
  const devices = Array.from({ length: count }, (_, i) => liveDevice(`dn-traffic-${String(i).padStart(2, '0')}`, 'traffic', { zone: i % 2 ? 'son-tra' : 'hai-chau' }));
  devices.forEach((device, i) => report(bench.engine, device, T0 + 2 * i * SECOND, TRAFFIC));
  return devices;
}

/** Runs the clock with ticks every 5 s; the devices in `reporting` report once a minute. */
function run(from: number, to: number, reporting: readonly LiveDevice[] = []): void {
  bench.run(from, to, 5 * SECOND, (now) => {
    if ((now - T0) % MINUTE === 0) for (const device of reporting) report(bench.engine, device, now, TRAFFIC);
  });
}

describe('device_offline', () => {
  it('opens after 3 × the reporting interval of silence (and a short hold), stays through a reconnect without readings, clears 5 minutes after readings resume', () => {
    bench = new Bench();
    const sensor = liveDevice('dn-traffic-1', 'traffic', { name: 'Cầu Rồng west' });
    run(T0, T0 + 10 * MINUTE, [sensor]);
    run(T0 + 10 * MINUTE + 5 * SECOND, T0 + 14 * MINUTE + 5 * SECOND);
    expect(offline()).toEqual([]);
    bench.engine.tick(T0 + 14 * MINUTE + 10 * SECOND);
    const [incident, ...others] = offline();
    expect(others).toEqual([]);
    expect(incident).toMatchObject({
      type: 'device_offline',
      category: 'traffic',
      subCategory: 'deviceFault',
      severity: 'low',
      source: 'rule',
      subject: { type: 'device', id: 'dn-traffic-1' },
      value: 180,
      openedAt: T0 + 14 * MINUTE + 10 * SECOND,
    });
    expect(incident?.description).toContain('silent for 3 min');

    setPresence(bench.engine, sensor, 'online', T0 + 20 * MINUTE);
    run(T0 + 20 * MINUTE, T0 + 30 * MINUTE);
    expect(offline().map((entry) => entry.status)).toEqual(['open']);

    run(T0 + 31 * MINUTE, T0 + 36 * MINUTE - 5 * SECOND, [sensor]);
    expect(bench.store.get(incident?.id ?? '')?.status).toBe('open');
    run(T0 + 36 * MINUTE, T0 + 40 * MINUTE, [sensor]);
    expect(bench.store.get(incident?.id ?? '')).toMatchObject({ status: 'resolved', resolution: 'cleared', resolvedAt: T0 + 36 * MINUTE });
    expect(offline()).toHaveLength(1);
  });

  it('judges only silence it witnessed: at start, a device restored from storage gets one silence limit, one never heard of gets none', () => {
    bench = new Bench();
    const restored = liveDevice('dn-traffic-restored', 'traffic');
    restored.lastSeen = T0 - 60 * MINUTE;
    restored.presence = 'online';
    restored.presenceSince = T0 - 24 * 3600_000;
    restored.reading = TRAFFIC;
    const neverHeard = liveDevice('dn-traffic-new', 'traffic');
    bench.engine.observe(restored, T0);
    bench.engine.observe(neverHeard, T0);
    run(T0, T0 + 3 * MINUTE - 5 * SECOND);
    expect(offline()).toEqual([]);
    run(T0 + 3 * MINUTE, T0 + 2 * 60 * MINUTE);
    expect(offline().map((incident) => [incident.deviceId, incident.openedAt])).toEqual([['dn-traffic-restored', T0 + 3 * MINUTE + 70 * SECOND]]);
  });

  it('devices long dead before the start are each reported, not mistaken for an outage', () => {
    bench = new Bench();
    const dead = Array.from({ length: 12 }, (_, i) => {
      const device = liveDevice(`dn-traffic-dead-${i}`, 'traffic');
      device.lastSeen = T0 - (i + 1) * 3600_000;
      bench.engine.observe(device, T0);
      return device;
    });
    run(T0, T0 + 10 * MINUTE);
    expect(offline()).toHaveLength(dead.length);
    expect(outages()).toEqual([]);
  });

  it('an offline incident open before a restart is picked up and cleared once the device reports again', () => {
    bench = new Bench();
    const sensor = liveDevice('dn-traffic-1', 'traffic');
    run(T0, T0 + 2 * MINUTE, [sensor]);
    run(T0 + 2 * MINUTE + 5 * SECOND, T0 + 10 * MINUTE);
    const [incident] = offline();
    expect(incident?.status).toBe('open');

    const back = T0 + 15 * MINUTE;
    bench.restart(back);
    run(back, back + 20 * MINUTE);
    run(back + 20 * MINUTE + 5 * SECOND, back + 30 * MINUTE, [sensor]);
    expect(offline().map(({ id, resolution }) => [id, resolution])).toEqual([[incident?.id, 'cleared']]);
  });

  it('a removed device’s offline incident is cleared, saying why', () => {
    bench = new Bench();
    const sensor = liveDevice('dn-traffic-1', 'traffic');
    run(T0, T0 + MINUTE, [sensor]);
    run(T0 + MINUTE + 5 * SECOND, T0 + 10 * MINUTE);
    bench.engine.forget('dn-traffic-1', T0 + 11 * MINUTE);
    const [incident] = offline();
    expect(incident).toMatchObject({ status: 'resolved', resolution: 'cleared' });
    expect(incident?.history.at(-1)?.note).toContain('removed');
    run(T0 + 11 * MINUTE, T0 + 60 * MINUTE);
    expect(offline()).toHaveLength(1);
  });
});

describe('device_offline after a broker restart', () => {
  it('a restart shorter than the silence limit opens nothing', () => {
    bench = new Bench();
    const devices = fleet();
    const restart = T0 + MINUTE;
    for (const device of devices) setPresence(bench.engine, device, 'offline', restart);
    run(T0 + 5 * SECOND, restart + MINUTE - 5 * SECOND);
    for (const device of devices) setPresence(bench.engine, device, 'online', restart + MINUTE);
    run(restart + MINUTE, T0 + 60 * MINUTE, devices);
    expect(bench.incidents()).toEqual([]);
  });

  it('waits out the grace when many go together, skips those back by then, and reports only those still away', () => {
    bench = new Bench();
    const devices = fleet();
    const restart = T0 + MINUTE;
    for (const device of devices) setPresence(bench.engine, device, 'offline', restart);
    // Silence limits are reached between T0 + 180 s and T0 + 238 s; the last to join the burst holds it until T0 + 358 s.
    run(T0 + 5 * SECOND, T0 + 330 * SECOND);
    expect(bench.incidents()).toEqual([]);
    const back = devices.slice(0, 25);
    for (const device of back) setPresence(bench.engine, device, 'online', T0 + 331 * SECOND);
    run(T0 + 335 * SECOND, T0 + 355 * SECOND, back);
    expect(bench.incidents()).toEqual([]);
    run(T0 + 360 * SECOND, T0 + 60 * MINUTE, back);
    expect(offline().map((incident) => incident.deviceId).sort()).toEqual(devices.slice(25).map((device) => device.id));
    expect(offline().every((incident) => incident.openedAt === T0 + 360 * SECOND)).toBe(true);
    expect(outages()).toEqual([]);
  });

  it('a longer outage is one devices_offline incident; when it ends, those still away get their own', () => {
    bench = new Bench();
    const devices = fleet();
    const restart = T0 + MINUTE;
    for (const device of devices) setPresence(bench.engine, device, 'offline', restart);
    run(T0 + 5 * SECOND, T0 + 20 * MINUTE);
    expect(offline()).toEqual([]);
    const [outage, ...others] = outages();
    expect(others).toEqual([]);
    expect(outage).toMatchObject({ severity: 'high', status: 'open', value: 30, subject: { type: 'location', id: 'fleet' }, openedAt: T0 + 360 * SECOND });
    expect(outage?.description).toContain('30 devices went offline together');

    const back = devices.slice(0, 25);
    for (const device of back) setPresence(bench.engine, device, 'online', T0 + 20 * MINUTE + 5 * SECOND);
    // The outage ends once fewer than 10 remain away, and clears after the longest silence limit (15 min): no individual incidents before.
    run(T0 + 21 * MINUTE, T0 + 36 * MINUTE - 5 * SECOND, back);
    expect(offline()).toEqual([]);
    expect(bench.store.get(outage?.id ?? '')?.status).toBe('open');
    run(T0 + 36 * MINUTE, T0 + 60 * MINUTE, back);
    expect(bench.store.get(outage?.id ?? '')).toMatchObject({ status: 'resolved', resolution: 'cleared', resolvedAt: T0 + 36 * MINUTE });
    expect(offline().map((incident) => incident.deviceId).sort()).toEqual(devices.slice(25).map((device) => device.id));
    expect(outages()).toHaveLength(1);
  });

  it('recognises an outage without presence news too (the api itself lost the broker)', () => {
    bench = new Bench();
    fleet();
    run(T0 + 5 * SECOND, T0 + 30 * MINUTE);
    expect(offline()).toEqual([]);
    expect(outages().map((incident) => incident.value)).toEqual([30]);
  });
});
