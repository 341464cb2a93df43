/**
 * A server the platform runs as a plain child process (InfluxDB, Redis): started, watched until it answers,
 * stopped with SIGTERM (SIGKILL after a while), and restartable on the same config and data (fault tests).
 * Its last lines of output are kept, since a server that does not come up says why there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { Logger } from './logger.js';
import { waitFor } from './wait-for.js';

export interface ChildServerOptions {
  /** How logs and errors name it: `InfluxDB`. */
  name: string;
  command: string;
  args: string[];
  /** Its working directory and environment; by default this process's. */
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Where it answers, for messages. */
  address: string;
  /** Resolves true once it serves. */
  ready: () => Promise<boolean>;
  /** The error to throw when its output says the port was taken after all (a race with another process). */
  portTaken?: (output: readonly string[]) => Error | undefined;
  logger?: Logger | undefined;
  startTimeoutMs?: number | undefined;
  /** Sees every line of its output: for a server that says in its log when it is ready, or what went wrong. */
  onLine?: ((line: string) => void) | undefined;
}

/** A started server as the platform's callers see it: where it answers, and how to stop, kill or restart it. */
export interface LocalServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** Starts it again on the same port and data, after a stop or a kill (fault tests). */
  restart(): Promise<void>;
}

export interface ChildServer {
  readonly pid: number | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  restart(): Promise<void>;
}

const OUTPUT_LINES_KEPT = 30;
const STOP_GRACE_MS = 10_000;

export function childServer(options: ChildServerOptions): ChildServer {
  const { name, logger } = options;
  let child: ChildProcess | undefined;
  let stopping = false;
  const output: string[] = [];

  const start = async () => {
    stopping = false;
    const started = spawn(options.command, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    const keep = (line: string) => {
      if (!line) return;
      options.onLine?.(line);
      output.push(line);
      if (output.length > OUTPUT_LINES_KEPT) output.shift();
      logger?.debug({ [options.command]: line });
    };
    for (const stream of [started.stdout, started.stderr]) if (stream) createInterface({ input: stream }).on('line', keep);
    // 'close' comes after the output streams ended, so its last lines are in `output` by then.
    const closed = new Promise<void>((resolve) =>
      started.once('close', (code, signal) => {
        if (!stopping) logger?.error({ code, signal, output: output.slice(-5) }, `${name} exited unexpectedly`);
        resolve();
      }),
    );
    try {
      await waitFor(
        `${name} on ${options.address}`,
        async () => {
          if (started.exitCode !== null || started.signalCode !== null) {
            throw new Error(`${options.command} exited (${started.signalCode ?? `code ${started.exitCode}`}) before answering on ${options.address}`);
          }
          return options.ready();
        },
        options.startTimeoutMs ?? 15_000,
      );
    } catch (error) {
      stopping = true;
      started.kill('SIGKILL');
      await closed;
      const taken = options.portTaken?.(output);
      if (taken) throw taken;
      throw new Error(`${(error as Error).message}\n${output.join('\n')}`, { cause: error });
    }
    logger?.info({ address: options.address, pid: started.pid }, `${name} started`);
  };

  const stop = async () => {
    const running = child;
    stopping = true;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => running.kill('SIGKILL'), STOP_GRACE_MS);
      running.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      running.kill('SIGTERM');
    });
  };

  return {
    get pid() {
      return child?.pid;
    },
    start,
    stop,
    kill(signal) {
      stopping = true;
      child?.kill(signal);
    },
    async restart() {
      await stop();
      await start();
    },
  };
}

/** Starts the server and waits until it answers at `url`. */
export async function startLocalServer(url: string, port: number, options: Omit<ChildServerOptions, 'address'>): Promise<LocalServer> {
  const server = childServer({ ...options, address: url });
  await server.start();
  return {
    url,
    port,
    get pid() {
      return server.pid;
    },
    stop: server.stop,
    kill: server.kill,
    restart: server.restart,
  };
}

/** Checked before spawning a server: another one already answering there would pass for ours. */
export function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(false) : reject(error)));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}
