/** Memory readings for the "memory stays flat" checks: a settled heap here, the resident set of a child process. */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * The heap in use after full collections: garbage a flood leaves behind would make a raw reading swing
 * by tens of megabytes, while what stays after collecting is what the process really holds on to.
 */
export function settledHeapBytes(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** VmRSS of a process, from /proc (Linux). */
export function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

export const mebibytes = (bytes: number): number => Number((bytes / 1024 / 1024).toFixed(1));
