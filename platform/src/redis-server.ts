/**
 * Runs Debian's redis-server as a plain child process, the broker's durable store: sessions, retained
 * messages and the QoS 1 messages it accepted for subscribers that have not taken them yet. Config and
 * data live under the platform's data dir, like InfluxDB's.
 *
 * Append-only file with `appendfsync always`: the broker acknowledges a device's QoS 1 PUBLISH once the
 * message is stored, and ingest acknowledges the broker only once a batch is in InfluxDB or fsynced in its
 * spool, so an acknowledgement means "on disk" at every hop. Redis fsyncs once per event-loop turn for all
 * the writes of that turn, so under load the cost is shared by many messages; `everysec` would be faster
 * but could lose the last second of acknowledged readings to a power cut.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { canListen, startLocalServer, type LocalServer } from './child-server.js';
import type { Logger } from './logger.js';
import { freePort } from './testing/free-port.js';

export interface RedisServerOptions {
  dataDir: string;
  /** 6379 unless given; 0 picks a free port (tests). */
  port?: number;
  logger?: Logger;
  startTimeoutMs?: number;
}

export type LocalRedis = LocalServer;

const HOST = '127.0.0.1';

/** Another server (often Debian's own redis-server.service) holds the port the local Redis needs. */
export class RedisPortInUseError extends Error {
  override name = 'RedisPortInUseError';
  constructor(port: number) {
    super(
      [
        `${HOST}:${port} is already in use, so the broker's local Redis cannot start. Either:`,
        "  - stop the server listening there (Debian's packaged Redis: sudo systemctl disable --now redis-server),",
        '  - set REDIS_PORT to a free port for the local Redis, or',
        `  - set REDIS_URL=redis://${HOST}:${port} to use that server instead (the broker's keys need a database of their own).`,
        `Cổng ${HOST}:${port} đang bị chiếm nên không khởi động được Redis cục bộ của broker. Hãy:`,
        '  - dừng máy chủ đang nghe ở đó (Redis cài từ gói Debian: sudo systemctl disable --now redis-server),',
        '  - đặt REDIS_PORT là một cổng còn trống cho Redis cục bộ, hoặc',
        `  - đặt REDIS_URL=redis://${HOST}:${port} để dùng máy chủ đó (khóa của broker cần một cơ sở dữ liệu riêng).`,
      ].join('\n'),
    );
  }
}

export async function startRedisServer(options: RedisServerOptions): Promise<LocalRedis> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error) {
    throw new Error(
      "redis-server was not found: install Debian's Redis (sudo apt-get install redis-server) or set REDIS_URL to use a Redis server you already run\n" +
        'Không tìm thấy redis-server: hãy cài Redis của Debian (sudo apt-get install redis-server) hoặc đặt REDIS_URL để dùng máy chủ Redis sẵn có',
    );
  }
  const port = options.port === 0 ? await freePort() : (options.port ?? 6379);
  if (!(await canListen(HOST, port))) throw new RedisPortInUseError(port);
  const root = join(options.dataDir, 'redis');
  mkdirSync(root, { recursive: true });
  const configFile = join(root, 'redis.conf');
  writeFileSync(
    configFile,
    [
      `bind ${HOST}`,
      `port ${port}`,
      'protected-mode yes',
      'daemonize no',
      `dir "${root}"`,
      'logfile ""',
      // The append-only file is the store; RDB snapshots would only add a second copy at intervals.
      'save ""',
      'appendonly yes',
      'appendfsync always',
      '',
    ].join('\n'),
  );
  const url = `redis://${HOST}:${port}`;
  return startLocalServer(url, port, {
    name: 'Redis',
    command: 'redis-server',
    args: [configFile],
    ready: () => ping(port),
    portTaken: (output) => (output.some((line) => line.includes('Address already in use')) ? new RedisPortInUseError(port) : undefined),
    logger: options.logger,
    startTimeoutMs: options.startTimeoutMs,
  });
}

/** PING in Redis' inline protocol; a server still loading its data answers -LOADING, which is not ready. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    let answer = '';
    const done = (ready: boolean) => {
      socket.destroy();
      resolve(ready);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}
