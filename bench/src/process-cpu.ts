/** CPU time a process has used so far, from /proc (Linux): user + system, in seconds. */
import { readFileSync } from 'node:fs';

/** USER_HZ, which Linux fixes at 100 for /proc whatever the kernel's own tick rate. */
const TICKS_PER_SECOND = 100;

export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in parentheses may hold spaces; the fields after it are fixed: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}
