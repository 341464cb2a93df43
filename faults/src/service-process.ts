/**
 * One of the platform's services as a child process of the test, the way `npm start` runs it
 * (`node --import tsx <entry>`), so that a fault test can SIGTERM or SIGKILL it and start it again on the
 * same ports and data. Its JSON log lines are kept for the assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@city/platform';

const root = fileURLToPath(new URL('../../', import.meta.url));
const LOG_LINES_KEPT = 20_000;

export interface LogLine {
  msg?: string;
  level?: number;
  time?: number;
  [key: string]: unknown;
}

export interface ServiceProcess {
  readonly name: string;
  readonly running: boolean;
  /** The running process's id (for CPU accounting), undefined when it is not running. */
  readonly pid: number | undefined;
  start(): Promise<void>;
  /** Sends the signal and resolves once the process has exited. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  logs(): LogLine[];
}

/** `nodeArgs` go before the entry, e.g. `--cpu-prof` for a bench that profiles the service. */
export function serviceProcess(name: string, entry: string, env: Record<string, string>, ready: () => Promise<boolean>, nodeArgs: readonly string[] = []): ServiceProcess {
  let child: ChildProcess | undefined;
  const logs: LogLine[] = [];
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  return {
    name,
    get running() {
      return running();
    },
    get pid() {
      return running() ? child?.pid : undefined;
    },
    async start() {
      const started = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry], {
        cwd: root,
        env: { ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info', ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child = started;
      createInterface({ input: started.stdout as Readable }).on('line', (line) => {
        try {
          logs.push(JSON.parse(line) as LogLine);
          if (logs.length > LOG_LINES_KEPT) logs.shift();
        } catch {
          process.stdout.write(`${name}: ${line}\n`);
        }
      });
      await waitFor(`${name} ready`, async () => {
        if (!running()) throw new Error(`${name} exited (${started.signalCode ?? started.exitCode}) before it was ready${lastError(logs)}`);
        return ready().catch(() => false);
      }, 60_000, 100);
    },
    async stop(signal = 'SIGTERM') {
      const current = child;
      if (!current || !running()) return;
      await new Promise<void>((resolve) => {
        current.once('exit', () => resolve());
        current.kill(signal);
      });
    },
    logs: () => [...logs],
  };
}

/** The last error the service logged, for the message of a failed start. */
function lastError(logs: readonly LogLine[]): string {
  const line = logs.findLast((entry) => (entry.level ?? 0) >= 50);
  return line ? `: ${JSON.stringify(line)}` : '';
}
