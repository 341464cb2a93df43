/**
 * A stream that follows part of the city, over the real broker and api: only the followed devices arrive, the
 * rest of the city does not wake the client, and a filter that names nothing sensible is refused before the upgrade.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@city/platform';
import type { MqttClient } from 'mqtt';
import { MAX_FOLLOWED } from '../../src/stream/stream-filter.js';
import { startApiStack, type ApiStack } from '../helpers/api-stack.js';

let stack: ApiStack;
let followed: MqttClient;
let other: MqttClient;

beforeAll(async () => {
  stack = await startApiStack();
  followed = await stack.device('n-followed', await stack.provision('n-followed', 'noise', 108.2208, 16.0544));
  other = await stack.device('n-other', await stack.provision('n-other', 'noise', 108.221, 16.0546));
  await stack.provision('aq-followed', 'air_quality', 108.2212, 16.0548);
  const { live } = stack.app.services;
  await waitFor('both meters online', () => ['n-followed', 'n-other'].every((id) => live.devices.get(id)?.presence === 'online'), 5000);
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const idsOf = (message: Record<string, unknown>) => ((message.devices ?? []) as { id: string }[]).map((device) => device.id);

describe('a stream that follows part of the city', () => {
  it('sends only the followed device, and the rest of the city sends it nothing', async () => {
    const stream = await stack.stream('viewer', { devices: 'n-followed' });
    const whole = await stack.stream('viewer');
    const snapshot = await stream.next((message) => message.type === 'snapshot');
    expect(idsOf(snapshot)).toEqual(['n-followed']);

    for (let i = 0; i < 5; i += 1) await stack.publish(other, 'telemetry', { LAeq: 60 + i, LAmax: 80 });
    await whole.next((message) => message.type === 'delta' && idsOf(message).includes('n-other'), 3000);
    await stack.publish(followed, 'telemetry', { LAeq: 44, LAmax: 50 });
    const delta = await stream.next((message) => message.type === 'delta', 3000);
    expect(idsOf(delta)).toEqual(['n-followed']);
    // The whole city's client has had the other meter's readings all along; the following one never saw them.
    await whole.next((message) => idsOf(message).includes('n-followed'), 3000);
    expect(stream.messages.flatMap(idsOf)).not.toContain('n-other');
    stream.close();
    whole.close();
  });

  it('follows a kind', async () => {
    const stream = await stack.stream('viewer', { kinds: 'air_quality' });
    expect(idsOf(await stream.next((message) => message.type === 'snapshot'))).toEqual(['aq-followed']);
    stream.close();
  });

  it('holds criteria given together to all of them', async () => {
    const stream = await stack.stream('viewer', { kinds: 'noise', devices: 'n-other,aq-followed' });
    expect(idsOf(await stream.next((message) => message.type === 'snapshot'))).toEqual(['n-other']);
    stream.close();
  });

  it('refuses an unknown kind, a malformed id and too many ids before the upgrade', async () => {
    await expect(stack.stream('viewer', { kinds: 'submarine' })).rejects.toThrow('stream refused: 400');
    const refusal = await fetch(`${stack.baseUrl}/api/v1/stream?kinds=noise,flood`, { headers: { authorization: `Bearer ${await stack.token('viewer')}` } });
    expect(refusal.status).toBe(400);
    expect(((await refusal.json()) as { message: string }).message).toBe(
      'querystring/kinds: unknown kind "flood"; the kinds are traffic, air_quality, noise, water_level, parking, streetlight',
    );
    await expect(stack.stream('viewer', { devices: 'n-followed,../etc' })).rejects.toThrow('stream refused: 400');
    const tooMany = Array.from({ length: MAX_FOLLOWED + 1 }, (_, i) => `d-${i}`).join(',');
    await expect(stack.stream('viewer', { devices: tooMany })).rejects.toThrow('stream refused: 400');
  });
});
