import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../src/testing/temp-dir.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

/** Runs the launcher with `env` while something else holds a port, and returns its exit code and stderr. */
async function launchWithPortTaken(env: (port: number) => Record<string, string>): Promise<{ port: number; code: number | null; stderr: string }> {
  const dir = tempDir('city-launcher-');
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => taken.close(), dir.cleanup);
  const { port } = taken.address() as AddressInfo;

  const launcher = spawn(process.execPath, ['--import', 'tsx', 'platform/src/start.ts'], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dir.path, DEMO_FLEET: 'off', LOG_LEVEL: 'silent', ...env(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  launcher.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => launcher.once('exit', resolve));
  return { port, code, stderr };
}

describe('the launcher', () => {
  it('stops at once with what to do when the local InfluxDB port is taken', async () => {
    const { port, code, stderr } = await launchWithPortTaken((port) => ({ INFLUX_PORT: String(port), INFLUX_URL: '' }));
    expect(code).toBe(1);
    expect(stderr).toContain(`127.0.0.1:${port} is already in use`);
    expect(stderr).toContain('INFLUX_PORT');
    expect(stderr).toContain(`INFLUX_URL=http://127.0.0.1:${port}`);
    expect(stderr).toContain('đang bị chiếm');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
