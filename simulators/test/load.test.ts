import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@city/platform';
import { readMetric } from '@city/platform/testing';
import { startStack, type Stack } from '../../ingest/test/helpers/stack.js';
import { connectDevice } from '../src/load/connection.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  await stack.startIngest();
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const brokerMetric = (name: string) => readMetric(stack.broker.metricsPort, name);
const load = async (...args: string[]) => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'simulators/src/load/load.ts', ...args], {
    cwd: root,
    env: { ...process.env, DATA_DIR: stack.dataDir, MQTT_URL: stack.mqttUrl },
    timeout: 60_000,
  });
  return { summary: stdout.trim() ? JSON.parse(stdout.trim().split('\n').at(-1) as string) : undefined, stderr };
};
const loadDevices = () => stack.registry.list().filter((device) => device.id.startsWith('load-'));

describe('the load generator', () => {
  it('reports counts that agree with the broker, ingest and InfluxDB', async () => {
    const startedBefore = Date.now();
    const { summary, stderr } = await load('--devices', '30', '--rate', '300', '--qos', '1', '--duration', '3', '--payload', 'mixed', '--workers', '2', '--source-addresses', '127.0.0.1,127.0.0.2');
    expect(stderr).toMatch(/acknowledged \d+/);
    expect(summary).toMatchObject({ devices: 30, connected: 30, connectFailures: 0, failed: 0, qos: 1 });
    expect(summary.sent).toBeGreaterThan(600);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(summary.latencyMs.p99).toBeGreaterThan(0);
    // The rate is over the publishing window alone; connecting before and draining after are apart.
    expect(summary.durationS).toBeGreaterThanOrEqual(3);
    // Within the rounding of durationS to 10 ms.
    expect(Math.abs(summary.rate - summary.acknowledged / summary.durationS)).toBeLessThan(summary.rate * 0.005);
    expect(Date.parse(summary.startedAt)).toBeGreaterThan(startedBefore);
    expect(summary).toMatchObject({ sourceAddresses: 2 });
    expect(loadDevices()).toHaveLength(30);

    expect(await brokerMetric('mqtt_messages_in_total')).toBe(summary.acknowledged);
    await waitFor('ingest to receive every message', async () => (await stack.ingestMetric('ingest_readings_received_total')) === summary.acknowledged, 20_000);
    // Durable first (InfluxDB, or the spool when a loaded InfluxDB is slow to answer), then queryable once the spool drains.
    await waitFor('ingest to make every reading durable', async () => (await stack.ingestMetric('ingest_points_written_total')) >= summary.acknowledged, 30_000);
    const storedNow = async () => {
      const counts = await Promise.all(
        [['traffic', 'intensity'], ['air_quality', 'pm25'], ['noise', 'LAeq'], ['water_level', 'currentLevel'], ['parking', 'totalSpotNumber'], ['streetlight', 'powerConsumption']].map(([m, f]) =>
          stack.count(m as string, f as string, "WHERE device_id =~ /^load-/"),
        ),
      );
      return counts.reduce((a, b) => a + b, 0);
    };
    await waitFor('every reading in InfluxDB', async () => (await storedNow()) === summary.acknowledged && (await stack.ingestMetric('ingest_spool_records')) === 0, 60_000).catch(() => undefined);
    const stored = await storedNow();
    expect(stored).toBe(summary.acknowledged);
  }, 120_000);

  it('keeps its devices for the next run until --cleanup removes them', async () => {
    expect(loadDevices()).toHaveLength(30);
    const { stderr } = await load('--cleanup');
    expect(stderr).toMatch(/removed 30 load devices/);
    expect(loadDevices()).toEqual([]);
    expect(existsSync(join(stack.dataDir, 'load', 'credentials.json'))).toBe(false);
  }, 60_000);

  it('at QoS 0 counts a reading once written, and the broker receives every one', async () => {
    const before = await brokerMetric('mqtt_messages_in_total');
    const { summary } = await load('--devices', '10', '--rate', '200', '--qos', '0', '--duration', '2', '--payload', 'air');
    expect(summary).toMatchObject({ connected: 10, failed: 0, qos: 0 });
    expect(summary.acknowledged).toBe(summary.sent);
    await waitFor('the broker to receive every QoS 0 message', async () => (await brokerMetric('mqtt_messages_in_total')) - before === summary.sent, 10_000);
  }, 60_000);

  it('with --batch sends gateway batches: the rate and counts are messages, each carrying that many readings', async () => {
    const [messagesBefore, readingsBefore] = [await stack.ingestMetric('ingest_messages_received_total'), await stack.ingestMetric('ingest_readings_received_total')];
    const { summary } = await load('--devices', '10', '--rate', '50', '--qos', '1', '--duration', '2', '--payload', 'mixed', '--batch', '20');
    expect(summary).toMatchObject({ connected: 10, failed: 0, readingsPerMessage: 20 });
    expect(summary.readingsAcknowledged).toBe(summary.acknowledged * 20);
    await waitFor('ingest to receive every batch', async () => (await stack.ingestMetric('ingest_messages_received_total')) - messagesBefore === summary.acknowledged, 20_000);
    expect((await stack.ingestMetric('ingest_readings_received_total')) - readingsBefore).toBe(summary.readingsAcknowledged);
    expect(await stack.ingestMetric('ingest_readings_rejected_total')).toBe(0);
  }, 60_000);

  it('runs itself and its workers at the CPU priority --nice asks for, and refuses one out of range', async () => {
    const args = ['--import', 'tsx', 'simulators/src/load/load.ts', '--devices', '4', '--rate', '20', '--qos', '1', '--duration', '3', '--workers', '2'];
    const env = { ...process.env, DATA_DIR: stack.dataDir, MQTT_URL: stack.mqttUrl };
    const child = execFile(process.execPath, [...args, '--nice', '7'], { cwd: root, env });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const pid = child.pid as number;
    const children = () => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    await waitFor('the two workers', async () => children().length === 2, 30_000);
    expect([pid, ...children()].map((id) => getPriority(id))).toEqual([7, 7, 7]);
    expect(await exited).toBe(0);
    await expect(promisify(execFile)(process.execPath, [...args, '--nice', '25'], { cwd: root, env })).rejects.toMatchObject({ code: 2 });
  }, 60_000);

  it('fails to connect a device with a wrong secret, naming the refusal', async () => {
    await expect(connectDevice(stack.mqttUrl, { id: 'load-0', secret: 'not-its-secret' })).rejects.toThrow(/refused load-0 \(CONNACK return code [45]\)/);
  });

  it('connects from the source address it is given', async () => {
    const server = createServer();
    const seen = new Promise<string | undefined>((resolve) => server.once('connection', (socket) => {
      resolve(socket.remoteAddress);
      socket.destroy();
    }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await expect(connectDevice(url, { id: 'load-x', secret: 'x' }, { localAddress: '127.0.0.2' })).rejects.toThrow();
    expect(await seen).toBe('127.0.0.2');
    server.close();
  });
});
