/** Node-RED as a child process of the bench, on the same Node as the platform, ready once its flow is connected to the broker. */
import { childServer } from '@city/platform';
import { processCpuSeconds } from './process-cpu.js';

export interface NodeRedProcess {
  pid: number;
  cpuSeconds(): number;
  /** Log lines at error level so far (a failed write to InfluxDB logs one). */
  errors(): number;
  stop(): Promise<void>;
}

const READY = /Connected to broker/;
const ERROR = /\[error\]/;

export async function startNodeRed(entry: string, userDir: string, settingsFile: string, timeoutMs = 60_000): Promise<NodeRedProcess> {
  let connected = false;
  let errors = 0;
  const server = childServer({
    name: 'Node-RED',
    command: process.execPath,
    args: [entry, '--userDir', userDir, '--settings', settingsFile],
    cwd: userDir,
    address: 'its MQTT broker',
    ready: async () => connected,
    onLine: (line) => {
      if (ERROR.test(line)) errors++;
      if (READY.test(line)) connected = true;
    },
    startTimeoutMs: timeoutMs,
  });
  await server.start();
  const pid = server.pid as number;
  return { pid, cpuSeconds: () => processCpuSeconds(pid), errors: () => errors, stop: server.stop };
}
