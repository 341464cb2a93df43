import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@city/platform';
import { readMetric } from '@city/platform/testing';
import { startStack, type Stack } from '../../ingest/test/helpers/stack.js';

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

describe('the load generator', () => {
  it('reports counts that agree with the broker, ingest and InfluxDB', async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'simulators/src/load/load.ts', '--devices', '30', '--rate', '300', '--qos', '1', '--duration', '3', '--payload', 'mixed', '--workers', '2'],
      { cwd: root, env: { ...process.env, DATA_DIR: stack.dataDir, MQTT_URL: stack.mqttUrl }, timeout: 60_000 },
    );
    const summary = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(stderr).toMatch(/acknowledged \d+/);
    expect(summary).toMatchObject({ devices: 30, connected: 30, connectFailures: 0, failed: 0, qos: 1 });
    expect(summary.sent).toBeGreaterThan(600);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(summary.latencyMs.p99).toBeGreaterThan(0);

    expect(await brokerMetric('mqtt_messages_in_total')).toBe(summary.acknowledged);
    await waitFor('ingest to receive every message', async () => (await stack.ingestMetric('ingest_readings_received_total')) === summary.acknowledged, 20_000);
    let stored = 0;
    await waitFor(
      'every reading in InfluxDB',
      async () => {
        const counts = await Promise.all(
          [['traffic', 'intensity'], ['air_quality', 'pm25'], ['noise', 'LAeq'], ['water_level', 'currentLevel'], ['parking', 'totalSpotNumber'], ['streetlight', 'powerConsumption']].map(([m, f]) =>
            stack.count(m as string, f as string, "WHERE device_id =~ /^load-/"),
          ),
        );
        stored = counts.reduce((a, b) => a + b, 0);
        return stored === summary.acknowledged;
      },
      20_000,
    );
    expect(stored).toBe(summary.acknowledged);
  }, 120_000);
});
