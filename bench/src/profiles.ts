/**
 * `BENCH_PROFILE_DIR=dir npm run bench`: the platform's services and the load generator write V8 CPU profiles
 * (`.cpuprofile`, one per process) into `dir/<measurement>/`, to find the hot path behind a missed target.
 */
import { join } from 'node:path';

export function profileOptions(measurement: string): { dir: string; loadArgs: string[] } | undefined {
  const base = process.env.BENCH_PROFILE_DIR;
  if (!base) return undefined;
  const dir = join(base, measurement);
  return { dir, loadArgs: ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'load')}`] };
}
