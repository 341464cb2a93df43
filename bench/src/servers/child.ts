/** A server the bench runs as its child: started, stopped with SIGTERM (SIGKILL after a grace), its last output kept for errors. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { waitFor } from '@city/platform';

export interface BenchChild {
  readonly pid: number;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 15_000;
const OUTPUT_KEPT = 40;

export async function startChild(name: string, command: string, args: string[], options: SpawnOptions, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<BenchChild> {
  const child: ChildProcess = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - OUTPUT_KEPT));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (exited()) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  try {
    await waitFor(`${name} to answer`, async () => {
      if (exited()) throw new Error(`${name} exited (${child.signalCode ?? child.exitCode}) before it answered:\n${output.join('\n')}`);
      return ready().catch(() => false);
    }, timeoutMs, 100);
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid as number, stop };
}
