/** A bench device fleet spread over worker processes (fleet-worker.ts), so that no one process runs out of file descriptors or CPU. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FleetCommand, FleetDevice, FleetReport, FleetTask } from './fleet-worker.js';

export interface FleetOptions extends Omit<FleetTask, 'devices'> {
  devices: FleetDevice[];
  workers: number;
}

/** The workers' reports added up; `cpuMs` is all workers' CPU together over the publish phase. */
export type FleetTotals = Omit<FleetReport, 'type'>;

export interface Fleet {
  totals(): FleetTotals;
  /** Resolves once every worker has tried all its devices. */
  connected: Promise<FleetTotals>;
  publish(command: Extract<FleetCommand, { type: 'publish' }>): Promise<FleetTotals>;
  stop(): Promise<void>;
}

export function startFleet(options: FleetOptions, onStatus: (totals: FleetTotals) => void = () => undefined): Fleet {
  const { workers: count, devices, ...rest } = options;
  const children: ChildProcess[] = [];
  const latest = new Map<number, FleetReport>();
  const totals = (): FleetTotals => {
    const sum = (key: keyof FleetTotals) => [...latest.values()].reduce((total, report) => total + report[key], 0);
    return {
      tried: sum('tried'),
      connected: sum('connected'),
      connectFailures: sum('connectFailures'),
      dropped: sum('dropped'),
      sent: sum('sent'),
      acknowledged: sum('acknowledged'),
      skipped: sum('skipped'),
      cpuMs: sum('cpuMs'),
      publishMs: Math.max(0, ...[...latest.values()].map((report) => report.publishMs)),
    };
  };
  let published: ((value: FleetTotals) => void) | undefined;
  let publishedCount = 0;
  const tried = new Set<number>();
  let allTried: (value: FleetTotals) => void = () => undefined;
  const connected = new Promise<FleetTotals>((resolve) => (allTried = resolve));
  for (let w = 0; w < count; w++) {
    const share = devices.filter((_, i) => i % count === w);
    const child = fork(fileURLToPath(new URL('./fleet-worker.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    child.on('message', (report: FleetReport) => {
      latest.set(w, report);
      onStatus(totals());
      if (report.tried === share.length && !tried.has(w)) {
        tried.add(w);
        if (tried.size === count) allTried(totals());
      }
      if (report.type === 'published' && ++publishedCount === count) published?.(totals());
    });
    child.send({ ...rest, devices: share } satisfies FleetTask);
  }
  return {
    totals,
    connected,
    publish(command) {
      publishedCount = 0;
      for (const [w, report] of latest) latest.set(w, { ...report, cpuMs: 0, publishMs: 0 });
      const done = new Promise<FleetTotals>((resolve) => (published = resolve));
      for (const child of children) child.send(command);
      return done;
    },
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.send({ type: 'stop' } satisfies FleetCommand, (error) => error && child.kill('SIGKILL'));
              setTimeout(() => child.kill('SIGKILL'), 5000).unref();
            }),
        ),
      );
    },
  };
}
