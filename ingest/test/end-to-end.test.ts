import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@city/platform';
import { startStack, type Stack } from './helpers/stack.js';
import { connectDevice, mosquittoPub } from './helpers/publish.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  await stack.startIngest();
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

describe('the durable path, end to end', () => {
  it('stores a reading published with mosquitto_pub within 2 s, with the right measurement, tags and fields', async () => {
    const device = await stack.provision('dn-aq-e2e', 'air_quality', 108.2208, 16.0544);
    const ts = Date.now() - 1000;
    await mosquittoPub(stack.mqttUrl, device.id, device.secret, `devices/${device.id}/telemetry`, JSON.stringify({ ts, pm25: 41.5, no2: 20, relativeHumidity: 0.8 }));
    const published = Date.now();
    await waitFor('the reading in InfluxDB', async () => (await stack.count('air_quality', 'pm25', `WHERE device_id = '${device.id}'`)) === 1, 5000);
    expect(Date.now() - published).toBeLessThan(2000);

    const rows = await stack.query(`SELECT * FROM "city"."raw"."air_quality" WHERE device_id = '${device.id}'`);
    expect(rows).toEqual([{ series: 'air_quality', time: ts, device_id: device.id, zone: 'hai-chau', pm25: 41.5, no2: 20, relativeHumidity: 0.8 }]);
  });

  it('refuses a wrong password, an unknown device and a publish to another device\'s topic; nothing of theirs is stored', async () => {
    const victim = await stack.provision('dn-noise-victim', 'noise');
    const attacker = await stack.provision('dn-noise-attacker', 'noise');
    const reading = JSON.stringify({ LAeq: 99, LAmax: 120 });

    await expect(mosquittoPub(stack.mqttUrl, victim.id, 'not-the-secret', `devices/${victim.id}/telemetry`, reading)).rejects.toThrow();
    await expect(mosquittoPub(stack.mqttUrl, 'dn-nobody', 'whatever', 'devices/dn-nobody/telemetry', reading)).rejects.toThrow();
    // Its own credentials, but presenting itself with the victim's client id, would take over the victim's session.
    await expect(
      (async () => {
        const { hostname, port } = new URL(stack.mqttUrl);
        const { execFileAsync } = await import('./helpers/publish.js');
        await execFileAsync('mosquitto_pub', ['-h', hostname, '-p', port, '-i', victim.id, '-u', attacker.id, '-P', attacker.secret, '-q', '1', '-t', `devices/${victim.id}/telemetry`, '-m', reading]);
      })(),
    ).rejects.toThrow();

    const client = await connectDevice(stack.mqttUrl, attacker.id, attacker.secret);
    const errors: string[] = [];
    await client.subscribeAsync(`devices/${attacker.id}/errors`, { qos: 0 });
    client.on('message', (_topic, payload) => errors.push(payload.toString()));
    await client.publishAsync(`devices/${victim.id}/telemetry`, reading, { qos: 1 });
    // The attacker's own valid reading marks the moment everything before it has been processed.
    await client.publishAsync(`devices/${attacker.id}/telemetry`, JSON.stringify({ LAeq: 50, LAmax: 60 }), { qos: 1 });
    await waitFor('the attacker\'s own reading', async () => (await stack.count('noise', 'LAeq', `WHERE device_id = '${attacker.id}'`)) === 1);
    await waitFor('the refusal told to the attacker', () => errors.some((text) => text.includes('acl_publish')));
    await client.endAsync();

    expect(await stack.count('noise', 'LAeq', `WHERE device_id = '${victim.id}'`)).toBe(0);
    expect(await stack.count('noise', 'LAeq', 'WHERE LAeq = 99')).toBe(0);
  });

  it('stores exactly the valid points when devices try to inject line protocol', async () => {
    const light = await stack.provision('dn-light-inject', 'streetlight');
    const client = await connectDevice(stack.mqttUrl, light.id, light.secret);
    const base = Date.now() - 60_000;
    const hostile = [
      { ts: base + 1, powerState: 'on\nstreetlight,device_id=evil powerConsumption=1', illuminanceLevel: 1, powerConsumption: 100 },
      { ts: base + 2, powerState: 'on', illuminanceLevel: 1, powerConsumption: 100, 'evil tag=1,x': 1 },
      { ts: base + 3, powerState: 'on" ,injected=1', illuminanceLevel: 1, powerConsumption: 100 },
      { ts: base + 4, 'powerState\n': 'on', illuminanceLevel: 1, powerConsumption: 100 },
      { ts: `${base}\n`, powerState: 'on', illuminanceLevel: 1, powerConsumption: 100 },
      { ts: base + 5, powerState: 'low', illuminanceLevel: '0.5 1', powerConsumption: 100 },
    ];
    for (const reading of hostile) await client.publishAsync(`devices/${light.id}/telemetry`, JSON.stringify(reading), { qos: 1 });
    await client.publishAsync(`devices/${light.id}/telemetry`, JSON.stringify([{ ts: base + 10, powerState: 'low', illuminanceLevel: 0.3, powerConsumption: 40 }]), { qos: 1 });
    await client.publishAsync(`devices/${light.id}/telemetry`, Buffer.from('streetlight,device_id=evil powerConsumption=1 1\n'), { qos: 1 });
    await client.publishAsync(`devices/${light.id}/telemetry`, JSON.stringify({ ts: base + 11, powerState: 'off', illuminanceLevel: 0, powerConsumption: 0 }), { qos: 1 });
    await waitFor('the valid readings', async () => (await stack.count('streetlight', 'powerConsumption', `WHERE device_id = '${light.id}'`)) === 2);
    await client.endAsync();

    const measurements = (await stack.query('SHOW MEASUREMENTS')).map((row) => row.name);
    expect(measurements.every((name) => ['air_quality', 'noise', 'streetlight', 'traffic', 'water_level', 'parking'].includes(String(name)))).toBe(true);
    const series = (await stack.query('SHOW SERIES FROM "streetlight"')).map((row) => row.key);
    expect(series).toEqual([`streetlight,device_id=${light.id},zone=hai-chau`]);
    const fields = (await stack.query('SHOW FIELD KEYS FROM "streetlight"')).map((row) => row.fieldKey).sort();
    expect(fields).toEqual(['illuminanceLevel', 'powerConsumption', 'powerState']);
    const rows = await stack.query(`SELECT powerState FROM streetlight WHERE device_id = '${light.id}'`);
    expect(rows.map((row) => row.powerState)).toEqual(['low', 'off']);
    expect(await stack.ingestMetric('ingest_readings_rejected_total', { reason: 'out_of_range' })).toBeGreaterThanOrEqual(2);
    expect(await stack.ingestMetric('ingest_readings_rejected_total', { reason: 'unknown_field' })).toBeGreaterThanOrEqual(2);
    expect(await stack.ingestMetric('ingest_readings_rejected_total', { reason: 'invalid_json' })).toBeGreaterThanOrEqual(1);
  });
});
