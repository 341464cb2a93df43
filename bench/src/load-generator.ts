/** `npm run load` as a child of the bench: bare device connections (no SDK), its summary parsed from the last line of stdout. */
import { execFile, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface LoadOptions {
  dataDir: string;
  mqttUrl: string;
  devices: number;
  rate: number;
  durationS: number;
  qos: 0 | 1;
  payload: 'traffic' | 'air' | 'mixed';
  /** The broker's per-device rate limit, so that the generator warns only when it applies. */
  deviceRateLimit?: number;
}

export interface LoadResult {
  devices: number;
  connected: number;
  /** When publishing began (all devices connected), ISO-8601. */
  startedAt: string | null;
  durationS: number;
  targetRate: number;
  sent: number;
  acknowledged: number;
  failed: number;
  rate: number;
}

export interface RunningLoad {
  /** The summary, also when stopped early (the generator prints it on SIGTERM). */
  result: Promise<LoadResult>;
  stop(): void;
}

export function runLoad(options: LoadOptions): RunningLoad {
  const args = ['--import', 'tsx', 'simulators/src/load/load.ts', '--payload', options.payload, '--devices', String(options.devices), '--rate', String(options.rate), '--qos', String(options.qos), '--duration', String(options.durationS)];
  const env = { ...process.env, DATA_DIR: options.dataDir, MQTT_URL: options.mqttUrl, ...(options.deviceRateLimit ? { DEVICE_RATE_LIMIT: String(options.deviceRateLimit) } : {}) };
  let child: ChildProcess | undefined;
  const result = new Promise<LoadResult>((resolve, reject) => {
    child = execFile(process.execPath, args, { cwd: root, env, timeout: (options.durationS + 180) * 1000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`load generator failed: ${error.message}\n${stderr.slice(-2000)}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1) as string) as LoadResult);
    });
  });
  return { result, stop: () => child?.kill('SIGTERM') };
}
