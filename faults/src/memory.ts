/** Memory readings for the "memory stays flat" checks: a settled heap here, the resident set of a child process. */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * The heap and buffers in use after full collections: garbage a flood leaves behind would make a raw reading
 * swing by tens of megabytes, while what stays after collecting is what the process really holds on to.
 * Buffers count: socket backlogs and payloads live outside the V8 heap.
 */
export function settledMemoryBytes(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/** VmRSS of a process, from /proc (Linux). */
export function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

export const mebibytes = (bytes: number): number => Number((bytes / 1024 / 1024).toFixed(1));

/**
 * Samples a process's resident set once a second. A leak keeps climbing with every message, while a
 * healthy process levels off once its heap has grown to the load: so what matters is how far the end of a
 * run rose above the highest point of its first half. The end is the lowest sample of the last quarter, as
 * RSS saws up and down with garbage collection and a leak lifts the troughs as much as the peaks.
 */
export function sampleResident(pid: number, intervalMs = 1000): { stop(): { firstHalfPeak: number; end: number; samples: number } } {
  const samples: number[] = [residentBytes(pid)];
  const timer = setInterval(() => samples.push(residentBytes(pid)), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      samples.push(residentBytes(pid));
      const half = samples.slice(0, Math.max(1, Math.ceil(samples.length / 2)));
      const lastQuarter = samples.slice(-Math.max(3, Math.ceil(samples.length / 4)));
      return { firstHalfPeak: Math.max(...half), end: Math.min(...lastQuarter), samples: samples.length };
    },
  };
}
