/** Node-RED as a child process of the bench, on the same Node as the platform, ready once its flow is connected to the broker. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { processCpuSeconds } from './process-cpu.js';

export interface NodeRedProcess {
  pid: number;
  cpuSeconds(): number;
  /** Log lines at error level so far (a failed write to InfluxDB logs one). */
  errors(): number;
  /** The last log lines, for a failure's message. */
  tail(): string;
  stop(): Promise<void>;
}

const READY = /Connected to broker/;
const ERROR = /\[error\]/;
const TAIL_LINES = 40;

export async function startNodeRed(entry: string, userDir: string, settingsFile: string, timeoutMs = 60_000): Promise<NodeRedProcess> {
  const child: ChildProcess = spawn(process.execPath, [entry, '--userDir', userDir, '--settings', settingsFile], { cwd: userDir, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let errors = 0;
  let onLine: (line: string) => void = () => undefined;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => {
      if (ERROR.test(line)) errors++;
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      onLine(line);
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!running()) return;
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(kill);
  };
  const tail = () => lines.join('\n');
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Node-RED did not connect to the broker within ${timeoutMs / 1000} s:\n${tail()}`)), timeoutMs);
      onLine = (line) => {
        if (!READY.test(line)) return;
        clearTimeout(timer);
        resolve();
      };
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`Node-RED exited (${child.signalCode ?? child.exitCode}) before it was ready:\n${tail()}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  onLine = () => undefined;
  return { pid: child.pid!, cpuSeconds: () => processCpuSeconds(child.pid!), errors: () => errors, tail, stop };
}
