/**
 * The WebSocket stream's promises over the real broker and api: a snapshot first, then deltas holding only
 * what changed, never more than one message a second per client, many readings of a device coalesced into
 * its latest state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@city/platform';
import type { MqttClient } from 'mqtt';
import { startApiStack, type ApiStack } from '../helpers/api-stack.js';

interface StreamDevice {
  id: string;
  reading: Record<string, number> | null;
}

let stack: ApiStack;
let quiet: MqttClient;
let busy: MqttClient;

beforeAll(async () => {
  stack = await startApiStack();
  quiet = await stack.device('n-quiet-s', await stack.provision('n-quiet-s', 'noise', 108.2208, 16.0544));
  busy = await stack.device('n-busy-s', await stack.provision('n-busy-s', 'noise', 108.2210, 16.0546));
  await stack.publish(quiet, 'telemetry', { LAeq: 50, LAmax: 60 });
  const { live } = stack.app.services;
  await waitFor('both meters online with a reading', () => ['n-quiet-s', 'n-busy-s'].every((id) => live.devices.get(id)?.presence === 'online') && live.devices.get('n-quiet-s')?.reading !== undefined, 5000);
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const devicesOf = (message: Record<string, unknown>) => (message.devices ?? []) as StreamDevice[];
const deltasWith = (messages: Record<string, unknown>[], id: string) => messages.filter((message) => message.type === 'delta' && devicesOf(message).some((device) => device.id === id));

describe('the live stream', () => {
  it('sends a snapshot, then a delta holding only the device that changed, no sooner than a second after the snapshot', async () => {
    const stream = await stack.stream('viewer');
    const snapshot = await stream.next((message) => message.type === 'snapshot');
    expect(devicesOf(snapshot).find((device) => device.id === 'n-quiet-s')?.reading).toMatchObject({ LAeq: 50 });
    expect(devicesOf(snapshot).map((device) => device.id)).toContain('n-busy-s');

    await stack.publish(busy, 'telemetry', { LAeq: 71, LAmax: 80 });
    const delta = await stream.next((message) => message.type === 'delta', 3000);
    expect(delta).toMatchObject({ removed: [], segments: {}, incidents: [] });
    expect(devicesOf(delta).map((device) => device.id)).toEqual(['n-busy-s']);
    expect(devicesOf(delta)[0]?.reading).toEqual({ LAeq: 71, LAmax: 80 });
    expect((delta.ts as number) - (snapshot.ts as number)).toBeGreaterThanOrEqual(1000);
    expect(stream.messages.indexOf(snapshot)).toBe(0);
    stream.close();
  });

  it('coalesces 20 readings of a device into at most 2 deltas carrying the latest, and never sends twice within a second', async () => {
    const stream = await stack.stream('viewer');
    await stream.next((message) => message.type === 'snapshot');
    for (let i = 0; i < 20; i += 1) await stack.publish(busy, 'telemetry', { LAeq: 40 + i, LAmax: 90 });
    await stream.next((message) => devicesOf(message).some((device) => device.id === 'n-busy-s' && device.reading?.LAeq === 59), 3000);
    // Another second: a late delta with an older value would show here.
    await stack.publish(quiet, 'telemetry', { LAeq: 52, LAmax: 61 });
    await stream.next((message) => devicesOf(message).some((device) => device.id === 'n-quiet-s' && device.reading?.LAeq === 52), 3000);

    const busyDeltas = deltasWith(stream.messages, 'n-busy-s');
    expect(busyDeltas.length).toBeGreaterThanOrEqual(1);
    expect(busyDeltas.length).toBeLessThanOrEqual(2);
    expect(devicesOf(busyDeltas.at(-1) ?? {}).find((device) => device.id === 'n-busy-s')?.reading?.LAeq).toBe(59);
    const times = stream.messages.map((message) => message.ts as number);
    for (let i = 1; i < times.length; i += 1) expect((times[i] ?? 0) - (times[i - 1] ?? 0), `message ${i}`).toBeGreaterThanOrEqual(1000);
    stream.close();
  });
});
