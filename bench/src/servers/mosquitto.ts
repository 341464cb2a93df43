/**
 * Debian's Mosquitto as the bench's baseline broker, on loopback with a generated config: the same devices with
 * passwords (hashed by mosquitto_passwd) and an ACL as strict as ours (a device writes only its own telemetry,
 * the consumer reads every device's). No persistence: Mosquitto only saves its store at intervals, so it would
 * not be a per-message durability to compare with anyway.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { childServer, isPortOpen } from '@city/platform';
import { freePort } from '@city/platform/testing';

export const MOSQUITTO = '/usr/sbin/mosquitto';
const START_TIMEOUT_MS = 60_000;

export interface RunningMosquitto {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

export async function startMosquitto(dataDir: string, devices: readonly { id: string; secret: string }[], consumer: { username: string; password: string }): Promise<RunningMosquitto> {
  const dir = join(dataDir, 'mosquitto');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const passwords = join(dir, 'passwd');
  writeFileSync(passwords, [...devices.map((d) => `${d.id}:${d.secret}`), `${consumer.username}:${consumer.password}`, ''].join('\n'), { mode: 0o600 });
  // -U hashes a plain file in place: one process for every device rather than one each.
  execFileSync('mosquitto_passwd', ['-U', passwords]);
  const acl = join(dir, 'acl');
  writeFileSync(acl, [`user ${consumer.username}`, 'topic read devices/#', '', 'pattern write devices/%u/telemetry', ''].join('\n'));
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
      // Run as root, Mosquitto would switch to its own user, which may not read the bench's private data folder.
      `user ${userInfo().username}`,
      'allow_anonymous false',
      `password_file ${passwords}`,
      `acl_file ${acl}`,
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'connection_messages false',
      // Unbounded like aedes: the default 20 in flight to the consumer would cap Mosquitto, not measure it.
      'max_inflight_messages 0',
      'max_queued_messages 0',
      '',
    ].join('\n'),
  );
  const server = childServer({ name: 'mosquitto', command: MOSQUITTO, args: ['-c', config], address: `127.0.0.1:${port}`, ready: () => isPortOpen(port), startTimeoutMs: START_TIMEOUT_MS });
  await server.start();
  return { pid: server.pid!, port, stop: server.stop };
}
