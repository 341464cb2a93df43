import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiStack, type ApiStack } from '../helpers/api-stack.js';

let stack: ApiStack;

beforeAll(async () => {
  stack = await startApiStack();
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const connects = (id: string, secret: string) =>
  mqtt.connectAsync(stack.mqttUrl, { clientId: id, username: id, password: secret, reconnectPeriod: 0, connectTimeout: 5000 }).then(
    async (client) => {
      await client.endAsync();
      return true;
    },
    () => false,
  );

describe('devices', () => {
  it('provisions a device on the registry the broker checks, shows it, rotates and removes it', async () => {
    const created = await stack.call('POST', '/api/v1/devices', {
      role: 'admin',
      body: { id: 'dn-noise-api-1', kind: 'noise', lon: 108.2208, lat: 16.0544, name: 'Chợ Hàn', attributes: { mounting: 'pole' } },
    });
    expect(created.status).toBe(201);
    const device = (await created.json()) as { id: string; secret: string; zone: string };
    expect(device).toMatchObject({ id: 'dn-noise-api-1', zone: 'hai-chau' });
    expect(await connects('dn-noise-api-1', device.secret)).toBe(true);

    const list = (await (await stack.call('GET', '/api/v1/devices?kind=noise', { role: 'viewer' })).json()) as { id: string; secret?: string }[];
    expect(list.map((entry) => entry.id)).toContain('dn-noise-api-1');
    expect(list.every((entry) => entry.secret === undefined)).toBe(true);
    const geojson = (await (await stack.call('GET', '/api/v1/devices?format=geojson', { role: 'viewer' })).json()) as { type: string; features: { id: string }[] };
    expect(geojson.type).toBe('FeatureCollection');
    expect(geojson.features.map((feature) => feature.id)).toContain('dn-noise-api-1');

    const rotated = (await (await stack.call('POST', '/api/v1/devices/dn-noise-api-1/rotate', { role: 'admin' })).json()) as { secret: string };
    expect(await connects('dn-noise-api-1', device.secret)).toBe(false);
    expect(await connects('dn-noise-api-1', rotated.secret)).toBe(true);

    expect((await stack.call('DELETE', '/api/v1/devices/dn-noise-api-1', { role: 'admin' })).status).toBe(204);
    expect(await connects('dn-noise-api-1', rotated.secret)).toBe(false);
    expect((await stack.call('GET', '/api/v1/devices/dn-noise-api-1', { role: 'viewer' })).status).toBe(404);
    const audit = (await (await stack.call('GET', '/api/v1/audit', { role: 'admin' })).json()) as { action: string; target: string; actor: string }[];
    expect(audit.filter((entry) => entry.target === 'dn-noise-api-1').map((entry) => entry.action).sort()).toEqual(['device.add', 'device.remove', 'device.rotate']);
  });

  it('explains what is wrong with a bad device', async () => {
    const swapped = await stack.call('POST', '/api/v1/devices', { role: 'admin', body: { id: 'dn-x', kind: 'noise', lon: 16.05, lat: 108.22 } });
    expect(swapped.status).toBe(400);
    const outside = await stack.call('POST', '/api/v1/devices', { role: 'admin', body: { id: 'dn-x', kind: 'noise', lon: 105.8, lat: 21.0 } });
    expect(await outside.json()).toMatchObject({ statusCode: 400, code: 'outside_zones', message: expect.stringContaining('swapped') });
    const badKind = await stack.call('POST', '/api/v1/devices', { role: 'admin', body: { id: 'dn-x', kind: 'lava', lon: 108.22, lat: 16.05 } });
    expect(await badKind.json()).toMatchObject({ statusCode: 400, code: 'invalid_input', message: expect.stringContaining('kind') });
    await stack.call('POST', '/api/v1/devices', { role: 'admin', body: { id: 'dn-dup', kind: 'noise', lon: 108.2208, lat: 16.0544 } });
    const duplicate = await stack.call('POST', '/api/v1/devices', { role: 'admin', body: { id: 'dn-dup', kind: 'noise', lon: 108.2208, lat: 16.0544 } });
    expect(duplicate.status).toBe(409);
  });
});
