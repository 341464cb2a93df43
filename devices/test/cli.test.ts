import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { DeviceRegistry } from '../src/registry.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let dataDir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as an operator would, in its own process, against the temporary data directory. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'devices/src/cli.ts', ...args],
      { cwd: root, env: { ...process.env, DATA_DIR: dataDir, LANG: 'C.UTF-8', CITY_LANG: '', ZONES_FILE: '', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function authenticates(id: string, secret: string): Promise<boolean> {
  const registry = DeviceRegistry.open(join(dataDir, 'registry.db'), { readonly: true });
  try {
    return (await registry.authenticate(id, secret)) !== undefined;
  } finally {
    registry.close();
  }
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'city-cli-'));
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run devices', () => {
  let secret: string;

  it('adds a device and prints exactly one JSON object with --json', async () => {
    const run = await cli(['add', 'dn-traffic-001', '--kind', 'traffic', '--lon', '108.2237', '--lat', '16.0611', '--name', 'Cầu Rồng', '--json']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const added = JSON.parse(lines[0] ?? '') as Record<string, string>;
    expect(Object.keys(added)).toEqual(['id', 'secret', 'kind', 'zone']);
    expect(added).toMatchObject({ id: 'dn-traffic-001', kind: 'traffic', zone: 'hai-chau' });
    expect(added.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(run.stderr).toMatch(/will not be shown again/);
    secret = added.secret as string;
    expect(await authenticates('dn-traffic-001', secret)).toBe(true);
  });

  it('prints the secret once with a warning without --json', async () => {
    const run = await cli(['add', 'dn-noise-7', '--kind', 'noise', '--lon', '108.27', '--lat', '16.11']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Added device dn-noise-7 \(noise\) in zone son-tra/);
    expect(run.stdout).toMatch(/Secret: [A-Za-z0-9_-]{43}\n/);
    expect(run.stdout).toMatch(/will not be shown again/);
  });

  it('lists devices as a table and as JSON, filtered', async () => {
    const table = await cli(['list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+KIND\s+ZONE/);
    expect(table.stdout).toMatch(/dn-traffic-001\s+traffic\s+hai-chau\s+108\.223700\s+16\.061100\s+Cầu Rồng/);
    expect(table.stdout).not.toContain(secret);

    const json = await cli(['list', '--kind', 'noise', '--json']);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as Array<{ id: string }>).map((device) => device.id)).toEqual(['dn-noise-7']);
  });

  it('rotates a secret: the old one stops working', async () => {
    const run = await cli(['rotate', 'dn-traffic-001', '--json']);
    expect(run.code).toBe(0);
    const rotated = JSON.parse(run.stdout) as { id: string; secret: string };
    expect(rotated.id).toBe('dn-traffic-001');
    expect(rotated.secret).not.toBe(secret);
    expect(await authenticates('dn-traffic-001', secret)).toBe(false);
    expect(await authenticates('dn-traffic-001', rotated.secret)).toBe(true);
  });

  it('removes a device, and says so when there is none', async () => {
    expect((await cli(['remove', 'dn-noise-7'])).stdout).toMatch(/Removed device dn-noise-7/);
    expect((await cli(['list', '--json'])).stdout).not.toContain('dn-noise-7');
    const again = await cli(['remove', 'dn-noise-7']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/dn-noise-7 does not exist/);
  });

  it('refuses a location outside every zone with exit code 1 and a hint', async () => {
    const run = await cli(['add', 'hn-1', '--kind', 'noise', '--lon', '105.85', '--lat', '21.03', '--json']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/outside every zone/);
    expect(run.stderr).toMatch(/swapped/);
    expect(run.stderr).toMatch(/--zone/);
  });

  it('speaks Vietnamese when asked to', async () => {
    const run = await cli(['add', 'dn-x', '--kind', 'noise', '--lon', '16.0611', '--lat', '108.2237'], { LANG: 'vi_VN.UTF-8' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/không hợp lệ/);
    expect((await cli(['--help'], { CITY_LANG: 'vi' })).stdout).toMatch(/Cách dùng/);
  });

  it('lists the zones', async () => {
    const run = await cli(['zones', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toContainEqual({ id: 'hai-chau', name: 'Quận Hải Châu' });
  });

  it('exits 2 on a wrong command line', async () => {
    const wrong = [[], ['frob'], ['add'], ['add', 'x', '--kind', 'noise', '--lon', 'east', '--lat', '16'], ['remove', 'x', '--kind', 'noise'], ['list', '--colour']];
    const runs = await Promise.all(wrong.map((args) => cli(args)));
    runs.forEach((run, i) => {
      expect({ args: wrong[i], code: run.code }).toEqual({ args: wrong[i], code: 2 });
      expect(run.stderr).toMatch(/--help/);
    });
  });
});
