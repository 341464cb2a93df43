/**
 * The load generator (`npm run load`) as a child process against a fault stack: real device
 * connections publishing at a steady rate while the test breaks something, and its own count of what
 * the broker acknowledged to compare with what InfluxDB holds afterwards.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Stack } from '../../../ingest/test/helpers/stack.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface LoadOptions {
  devices: number;
  rate: number;
  durationS: number;
}

export interface LoadSummary {
  devices: number;
  connected: number;
  connectFailures: number;
  sent: number;
  acknowledged: number;
  failed: number;
  rate: number;
}

export interface LoadRun {
  /** Acknowledged so far, from the generator's progress lines. */
  acknowledged(): number;
  /** The generator's closing summary, once its duration is over. */
  finished: Promise<LoadSummary>;
  stop(): void;
  /** `load generator, 40 devices, 400 readings/s, QoS 1`, for the report. */
  describe(): string;
}

export function startLoad(stack: Stack, options: LoadOptions): LoadRun {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'simulators/src/load/load.ts', '--devices', String(options.devices), '--rate', String(options.rate), '--qos', '1', '--duration', String(options.durationS), '--payload', 'traffic'],
    { cwd: root, env: { ...process.env, DATA_DIR: stack.dataDir, MQTT_URL: stack.mqttUrl, DEVICE_RATE_LIMIT: '1000' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let acknowledged = 0;
  const lines: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    const match = /acknowledged (\d+)/.exec(line);
    if (match) acknowledged = Number(match[1]);
  });
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
  const finished = new Promise<LoadSummary>((resolve, reject) => {
    child.once('exit', (code) => {
      const last = lines.at(-1);
      if (code !== 0 || !last) reject(new Error(`the load generator exited with ${code}`));
      else resolve(JSON.parse(last) as LoadSummary);
    });
  });
  finished.catch(() => undefined);
  return {
    acknowledged: () => acknowledged,
    finished,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
    describe: () => `load generator, ${options.devices} devices, ${options.rate} readings/s, QoS 1`,
  };
}
