/**
 * Runs Debian's InfluxDB 1.x as a plain child process with its config and data under the platform's
 * data dir, so that `npm start` and the tests need no system service and leave nothing behind.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from './logger.js';
import { freePort } from './testing/free-port.js';
import { canListen, startLocalServer, type LocalServer } from './child-server.js';

export interface InfluxdOptions {
  dataDir: string;
  /** 8086 unless given; 0 picks a free port (tests). */
  httpPort?: number;
  bindHost?: string;
  logger?: Logger;
  startTimeoutMs?: number;
}

export type LocalInfluxd = LocalServer;

/** Another server (often Debian's own influxdb.service) holds the port the local InfluxDB needs. */
export class InfluxPortInUseError extends Error {
  override name = 'InfluxPortInUseError';
  constructor(host: string, port: number) {
    super(
      [
        `${host}:${port} is already in use, so the local InfluxDB cannot start. Either:`,
        '  - stop the server listening there (Debian\'s packaged InfluxDB: sudo systemctl disable --now influxdb),',
        `  - set INFLUX_PORT to a free port for the local InfluxDB, or`,
        `  - set INFLUX_URL=http://${host}:${port} to use that server instead.`,
        `Cổng ${host}:${port} đang bị chiếm nên không khởi động được InfluxDB cục bộ. Hãy:`,
        '  - dừng máy chủ đang nghe ở đó (InfluxDB cài từ gói Debian: sudo systemctl disable --now influxdb),',
        '  - đặt INFLUX_PORT là một cổng còn trống cho InfluxDB cục bộ, hoặc',
        `  - đặt INFLUX_URL=http://${host}:${port} để dùng máy chủ đó.`,
      ].join('\n'),
    );
  }
}

export async function startInfluxd(options: InfluxdOptions): Promise<LocalInfluxd> {
  if (spawnSync('influxd', ['version'], { stdio: 'ignore' }).error) {
    throw new Error(
      "influxd was not found: install Debian's InfluxDB (sudo apt-get install influxdb) or set INFLUX_URL to use an InfluxDB server you already run\n" +
        'Không tìm thấy influxd: hãy cài InfluxDB của Debian (sudo apt-get install influxdb) hoặc đặt INFLUX_URL để dùng máy chủ InfluxDB sẵn có',
    );
  }
  const host = options.bindHost ?? '127.0.0.1';
  const port = options.httpPort === 0 ? await freePort() : (options.httpPort ?? 8086);
  // Checked before spawning: a server already answering /ping there would pass for ours.
  if (!(await canListen(host, port))) throw new InfluxPortInUseError(host, port);
  const root = join(options.dataDir, 'influxdb');
  mkdirSync(root, { recursive: true });
  const configFile = join(root, 'influxdb.conf');
  // The RPC port (backup/restore) must differ per instance so that tests can run several side by side.
  let rpcPort = await freePort();
  while (rpcPort === port) rpcPort = await freePort();
  writeFileSync(
    configFile,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(root, 'meta')}"`,
      '[data]',
      `  dir = "${join(root, 'data')}"`,
      `  wal-dir = "${join(root, 'wal')}"`,
      '  query-log-enabled = false',
      '[http]',
      `  bind-address = "${host}:${port}"`,
      '  log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  log-enabled = false',
      '',
    ].join('\n'),
  );
  const url = `http://${host}:${port}`;
  return startLocalServer(url, port, {
    name: 'InfluxDB',
    command: 'influxd',
    args: ['run', '-config', configFile],
    ready: () => ping(url),
    portTaken: (output) => (output.some((line) => line.includes('address already in use')) ? new InfluxPortInUseError(host, port) : undefined),
    logger: options.logger,
    startTimeoutMs: options.startTimeoutMs,
  });
}

async function ping(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    return response.status === 204;
  } catch {
    return false;
  }
}
