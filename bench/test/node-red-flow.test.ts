import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ALL_TELEMETRY } from '@city/devices';
import { tempDir } from '@city/platform/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { writeNodeRedFiles } from '../src/node-red-flow.js';
import { processCpuSeconds } from '../src/process-cpu.js';

const dirs: { cleanup(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

function writeFlow() {
  const dir = tempDir('bench-node-red-');
  dirs.push(dir);
  const { settingsFile } = writeNodeRedFiles({
    userDir: dir.path,
    port: 18_880,
    mqtt: { host: '127.0.0.1', port: 18_830, clientId: 'service:nodered-bench', username: 'service:nodered', password: 'a-service-secret-for-the-test' },
    influx: { host: '127.0.0.1', port: 18_086, database: 'nodered', measurement: 'traffic' },
  });
  const flow = JSON.parse(readFileSync(join(dir.path, 'flows.json'), 'utf8')) as FlowNode[];
  const node = (type: string) => flow.find((n) => n.type === type) as FlowNode;
  return { dir: dir.path, settingsFile, flow, node };
}

describe('the Node-RED flow of the ingest comparison', () => {
  it('listens on loopback only, with the editor and the admin API off', () => {
    const { settingsFile } = writeFlow();
    const settings = createRequire(import.meta.url)(settingsFile) as Record<string, unknown>;
    expect(settings).toMatchObject({ uiHost: '127.0.0.1', uiPort: 18_880, httpAdminRoot: false, httpNodeRoot: false, credentialSecret: false });
  });

  it('subscribes to every device telemetry topic at QoS 1 as a service, and writes InfluxDB 1.x with millisecond times', () => {
    const { dir, node } = writeFlow();
    expect(node('mqtt in')).toMatchObject({ topic: ALL_TELEMETRY, qos: '1', datatype: 'json', broker: node('mqtt-broker').id });
    expect(node('mqtt-broker')).toMatchObject({ broker: '127.0.0.1', port: '18830', clientid: 'service:nodered-bench', cleansession: true });
    expect(node('influxdb')).toMatchObject({ hostname: '127.0.0.1', port: '18086', database: 'nodered', influxdbVersion: '1.x' });
    expect(node('influxdb out')).toMatchObject({ influxdb: node('influxdb').id, measurement: 'traffic', precision: 'ms' });
    const credentials = JSON.parse(readFileSync(join(dir, 'flows_cred.json'), 'utf8')) as Record<string, unknown>;
    expect(credentials[node('mqtt-broker').id]).toEqual({ user: 'service:nodered', password: 'a-service-secret-for-the-test' });
  });

  it('wires mqtt in → function → influxdb out, the function turning a reading into fields, a device tag and its time', () => {
    const { node } = writeFlow();
    expect(node('mqtt in').wires).toEqual([[node('function').id]]);
    expect(node('function').wires).toEqual([[node('influxdb out').id]]);
    const toPoint = new Function('msg', node('function').func as string) as (msg: unknown) => { payload: unknown };
    const msg = { topic: 'devices/tl-0042/telemetry', payload: { sentAt: 1_700_000_000_050, ts: 1_700_000_000_000, intensity: 812, averageVehicleSpeed: 31.5, occupancy: 0.42 } };
    expect(toPoint(msg).payload).toEqual([{ intensity: 812, averageVehicleSpeed: 31.5, occupancy: 0.42, time: 1_700_000_000_000 }, { device_id: 'tl-0042' }]);
  });
});

describe('processCpuSeconds', () => {
  it('reads the CPU time a process has used, which grows as it works', () => {
    const before = processCpuSeconds(process.pid);
    const until = performance.now() + 200;
    while (performance.now() < until);
    const after = processCpuSeconds(process.pid);
    expect(before).toBeGreaterThan(0);
    expect(after).toBeGreaterThan(before);
  });
});
