/**
 * CPU time of processes and their descendants, read from /proc, so that a measurement can say which
 * process was the bottleneck (a process near 100 % of one core limits the pipeline). Descendants are
 * sampled while they run because a worker that exits takes its counters with it.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const TICKS_PER_S = 100;

interface Stat {
  ppid: number;
  ticks: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields start after the last `)`.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** CPU time one process has used so far (user + system), in seconds; NaN once it has gone. */
export function processCpuSeconds(pid: number): number {
  const stat = readStat(pid);
  return stat ? stat.ticks / TICKS_PER_S : Number.NaN;
}

function allStats(): Map<number, Stat> {
  const stats = new Map<number, Stat>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat) stats.set(pid, stat);
  }
  return stats;
}

export interface CpuUse {
  /** The window sampled. */
  seconds: number;
  /** Each tree's CPU time in the window. */
  cpuSeconds: Record<string, number>;
  /** Each tree's mean use in cores (1 = one core busy all the time). */
  cores: Record<string, number>;
}

/** Samples named process trees every `intervalMs` until `stop()`. */
export class ProcessCpu {
  private readonly roots = new Map<string, number>();
  /** Per tree, per pid: the first and the latest tick count seen. */
  private readonly seen = new Map<string, Map<number, { first: number; last: number }>>();
  private readonly timer: NodeJS.Timeout;
  private readonly startedAt = performance.now();

  constructor(intervalMs = 500) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  track(name: string, pid: number | undefined): void {
    if (pid === undefined) return;
    this.roots.set(name, pid);
    this.seen.set(name, new Map());
    this.sample();
  }

  stop(): CpuUse {
    this.sample();
    clearInterval(this.timer);
    const seconds = (performance.now() - this.startedAt) / 1000;
    const use: CpuUse = { seconds: Math.round(seconds * 10) / 10, cpuSeconds: {}, cores: {} };
    for (const [name, pids] of this.seen) {
      let ticks = 0;
      for (const { first, last } of pids.values()) ticks += last - first;
      use.cpuSeconds[name] = ticks / TICKS_PER_S;
      use.cores[name] = Math.round((ticks / TICKS_PER_S / seconds) * 100) / 100;
    }
    return use;
  }

  private sample(): void {
    if (this.roots.size === 0) return;
    const stats = allStats();
    const children = new Map<number, number[]>();
    for (const [pid, stat] of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
    for (const [name, root] of this.roots) {
      const pids = this.seen.get(name) as Map<number, { first: number; last: number }>;
      const queue = [root];
      while (queue.length > 0) {
        const pid = queue.pop() as number;
        const stat = stats.get(pid);
        if (!stat) continue;
        const known = pids.get(pid);
        // A process first seen after tracking began counts from zero: its whole life was in the window.
        if (known) known.last = stat.ticks;
        else pids.set(pid, { first: pid === root && pids.size === 0 ? stat.ticks : 0, last: stat.ticks });
        queue.push(...(children.get(pid) ?? []));
      }
    }
  }
}

/** The whole machine's CPU time so far, from the first line of /proc/stat, in ticks by kind. */
export interface MachineTicks {
  idle: number;
  kernel: number;
  total: number;
}

/** Parses /proc/stat's `cpu` line: user nice system idle iowait irq softirq steal …; idle counts iowait, kernel irq and softirq. */
export function parseMachineTicks(procStat: string): MachineTicks {
  const fields = (procStat.split('\n')[0] ?? '').trim().split(/\s+/);
  if (fields[0] !== 'cpu') throw new Error('/proc/stat does not start with the cpu line');
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields.slice(1, 9).map(Number);
  return { idle: idle + iowait, kernel: system + irq + softirq, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

export function readMachineTicks(): MachineTicks {
  return parseMachineTicks(readFileSync('/proc/stat', 'utf8'));
}

/** Shares of the machine's CPU between two readings: idle, and in the kernel (system time, interrupts). */
export function machineShares(before: MachineTicks, after: MachineTicks): { idle: number; kernel: number } {
  const total = Math.max(1, after.total - before.total);
  return { idle: (after.idle - before.idle) / total, kernel: (after.kernel - before.kernel) / total };
}
