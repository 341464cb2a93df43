import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { InfluxPortInUseError, startInfluxd } from '../src/influxd.js';
import { tempDir } from '../src/testing/temp-dir.js';

const dirs: ReturnType<typeof tempDir>[] = [];
afterAll(() => dirs.forEach((dir) => dir.cleanup()));

describe('local InfluxDB', () => {
  it('starts quickly from a generated config under the data dir, restarts on the same port and stops', async () => {
    const dir = tempDir('city-influxd-');
    dirs.push(dir);
    const started = performance.now();
    const influx = await startInfluxd({ dataDir: dir.path, httpPort: 0, logger: createLogger('test', 'silent') });
    expect(performance.now() - started).toBeLessThan(5000);
    const config = readFileSync(join(dir.path, 'influxdb', 'influxdb.conf'), 'utf8');
    expect(config).toContain('reporting-disabled = true');
    expect(config).toContain(`bind-address = "127.0.0.1:${influx.port}"`);
    expect((await fetch(`${influx.url}/ping`)).status).toBe(204);

    influx.kill('SIGKILL');
    await influx.restart();
    expect((await fetch(`${influx.url}/ping`)).status).toBe(204);
    expect(existsSync(join(dir.path, 'influxdb', 'meta'))).toBe(true);

    await influx.stop();
    await expect(fetch(`${influx.url}/ping`)).rejects.toThrow();
  });

  it('runs two instances side by side', async () => {
    const [a, b] = [tempDir('city-influxd-a-'), tempDir('city-influxd-b-')];
    dirs.push(a, b);
    const first = await startInfluxd({ dataDir: a.path, httpPort: 0 });
    const second = await startInfluxd({ dataDir: b.path, httpPort: 0 });
    expect(first.port).not.toBe(second.port);
    await Promise.all([first.stop(), second.stop()]);
  });

  it('refuses a port another server holds, naming the fixes in English and Vietnamese', async () => {
    const dir = tempDir('city-influxd-busy-');
    dirs.push(dir);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const refusal = startInfluxd({ dataDir: dir.path, httpPort: port });
      await expect(refusal).rejects.toBeInstanceOf(InfluxPortInUseError);
      await expect(refusal).rejects.toThrow(`127.0.0.1:${port} is already in use`);
      await expect(refusal).rejects.toThrow(/systemctl disable --now influxdb[\s\S]*INFLUX_PORT[\s\S]*INFLUX_URL=http:\/\/127\.0\.0\.1:\d+[\s\S]*đang bị chiếm/);
    } finally {
      taken.close();
    }
  });

  it('says how to get InfluxDB when influxd is not installed', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startInfluxd({ dataDir: '/nonexistent' })).rejects.toThrow(/apt-get install influxdb.*INFLUX_URL/);
    } finally {
      process.env.PATH = path;
    }
  });
});
