/**
 * A reading published by a device over MQTT reaches the api's layers, its device view and the
 * WebSocket stream within 2 s; and an api restart rebuilds live state from InfluxDB and retained presence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@city/platform';
import { startApiStack, type ApiStack } from '../helpers/api-stack.js';

let stack: ApiStack;

beforeAll(async () => {
  stack = await startApiStack();
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

interface Feature {
  id: string;
  properties: Record<string, unknown>;
}

async function layer(name: string): Promise<Feature[]> {
  const response = await stack.call('GET', `/api/v1/layers/${name}`, { role: 'viewer' });
  expect(response.status).toBe(200);
  return ((await response.json()) as { features: Feature[] }).features;
}

describe('live state', () => {
  it('shows a published reading in the layers, the device view and the stream within 2 s', async () => {
    // On Cầu Rồng, the segment named by its attribute.
    const secret = await stack.provision('t-rong-1', 'traffic', 108.2265, 16.0612, { segment: 'cau-rong' });
    const stream = await stack.stream('viewer');
    await stream.next((message) => message.type === 'snapshot');
    const client = await stack.device('t-rong-1', secret);
    const published = Date.now();
    await stack.publish(client, 'telemetry', { intensity: 4200, averageVehicleSpeed: 6, occupancy: 0.8 });

    const delta = await stream.next(
      (message) => message.type === 'delta' && (message.devices as { id: string; reading: unknown }[]).some((device) => device.id === 't-rong-1' && device.reading !== null),
      2000,
    );
    expect(Date.now() - published).toBeLessThan(2000);
    const device = (delta.devices as { id: string; reading: Record<string, number>; derived: Record<string, string> }[]).find((entry) => entry.id === 't-rong-1');
    expect(device?.reading).toMatchObject({ intensity: 4200, averageVehicleSpeed: 6, occupancy: 0.8 });
    expect(device?.derived.congestion).toBe('severe');
    expect((delta.segments as Record<string, { averageVehicleSpeed: number }>)['cau-rong']?.averageVehicleSpeed).toBe(6);

    const segment = (await layer('traffic')).find((feature) => feature.id === 'cau-rong');
    expect(segment?.properties).toMatchObject({ averageVehicleSpeed: 6, intensity: 4200, congestion: 'severe', reporting: 1 });
    const view = (await (await stack.call('GET', '/api/v1/devices/t-rong-1', { role: 'viewer' })).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ presence: 'online', segment: 'cau-rong', reading: { intensity: 4200 } });
    stream.close();
  });

  it('derives flood level, parking occupancy and the air quality layers from readings', async () => {
    const water = await stack.provision('w-low-1', 'water_level', 108.2101, 16.0555, { alertLevel: 0.5, dangerLevel: 1.0 });
    const park = await stack.provision('p-site-1', 'parking', 108.2205, 16.0700);
    const unsure = await stack.provision('p-site-2', 'parking', 108.2207, 16.0702, { totalSpotNumber: 400 });
    const air = await stack.provision('a-st-1', 'air_quality', 108.2030, 16.0640);
    await stack.publish(await stack.device('w-low-1', water), 'telemetry', { currentLevel: 0.72, rainfall: 40 });
    await stack.publish(await stack.device('p-site-1', park), 'telemetry', { occupiedSpotNumber: 150, totalSpotNumber: 200 });
    // A counter that lost its configuration reports no spots in all: the registered size stands in.
    await stack.publish(await stack.device('p-site-2', unsure), 'telemetry', { occupiedSpotNumber: 100, totalSpotNumber: 0 });
    // The VN_AQI needs 2 of the last 3 hours: a gateway batch brings the previous hour too.
    await stack.publish(await stack.device('a-st-1', air), 'telemetry', [{ ts: Date.now() - 3_600_000, pm25: 40.5, no2: 90 }, { pm25: 40.5, no2: 118.7 }]);
    await waitFor('readings in live state', async () => (await layer('parking')).filter((feature) => feature.properties.occupancy !== undefined).length === 2, 2000);
    expect((await layer('flood')).find((feature) => feature.id === 'w-low-1')?.properties).toMatchObject({ currentLevel: 0.72, flood: 'alert', alertLevel: 0.5 });
    expect((await layer('parking')).find((feature) => feature.id === 'p-site-1')?.properties).toMatchObject({ occupancy: 0.75 });
    expect((await layer('parking')).find((feature) => feature.id === 'p-site-2')?.properties).toMatchObject({ occupancy: 0.25 });
    await waitFor('air reading', async () => (await layer('environment')).some((feature) => feature.id === 'a-st-1' && feature.properties.pm25 === 40.5), 2000);
    // NowCast of PM2.5 over [40.5, 40.5] is 40.5 → 50 + 15.5 × 50/25 = 81; NO2 118.7 → 59; the AQI is 81.
    expect((await layer('environment')).find((feature) => feature.id === 'a-st-1')?.properties).toMatchObject({ aqi: 81, aqiCategory: 2, aqiPollutant: 'pm25', aqiColor: '#ffff00' });
    const zones = await layer('zones');
    expect(zones.length).toBeGreaterThanOrEqual(7);
    expect(zones.every((zone) => typeof zone.properties.devices === 'number')).toBe(true);
  });

  it('rebuilds live state after an api restart from InfluxDB and the retained presence', async () => {
    await waitFor('reading stored', async () => (await stack.query('SELECT count("intensity") FROM "traffic"')).length > 0, 5000);
    await waitFor('both hours of the air station stored', async () => (await stack.query('SELECT count("pm25") FROM "air_quality"'))[0]?.count === 2, 5000);
    await stack.restartApp();
    const view = (await (await stack.call('GET', '/api/v1/devices/t-rong-1', { role: 'viewer' })).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ reading: { intensity: 4200, averageVehicleSpeed: 6 } });
    // The VN_AQI needs 2 of the last 3 hours: the previous hour and this one, both restored.
    const station = (await (await stack.call('GET', '/api/v1/devices/a-st-1', { role: 'viewer' })).json()) as Record<string, unknown>;
    expect(station).toMatchObject({ derived: { aqi: 81, aqiPollutant: 'pm25' } });
    await waitFor('presence from the retained status', async () => {
      const again = (await (await stack.call('GET', '/api/v1/devices/t-rong-1', { role: 'viewer' })).json()) as { presence: string };
      return again.presence === 'online';
    }, 3000);
  });
});
