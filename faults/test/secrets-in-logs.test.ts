/**
 * Nothing secret in any log: the broker, ingest and the api run as real processes at debug level while
 * devices are provisioned and rotated (CLI and api), connect with wrong and right secrets, operators log
 * in (wrongly too), change a password, open the stream with a token in its URL and log out. Then no
 * device secret, guess, password, token or the service secret may appear in anything they printed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger, startInfluxd, waitForPort, type LocalInfluxd } from '@city/platform';
import { freePort, tempDir } from '@city/platform/testing';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

interface Service {
  name: string;
  process: ChildProcess;
  output: string[];
}

let dir: ReturnType<typeof tempDir>;
let influx: LocalInfluxd;
const services: Service[] = [];
/** The CLI's stdout is where a secret is shown, once, on purpose; what it says on stderr is a log like any other. */
const cliStderr: string[] = [];
/** Everything a log must never show. */
const secrets = new Map<string, string>();
let env: NodeJS.ProcessEnv;
let ports: { mqtt: number; http: number };

function startService(name: string, entry: string, extra: NodeJS.ProcessEnv): Service {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: ROOT, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
  const service: Service = { name, process: child, output: [] };
  child.stdout?.on('data', (chunk: Buffer) => service.output.push(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => service.output.push(chunk.toString('utf8')));
  services.push(service);
  return service;
}

async function stopService(service: Service): Promise<void> {
  if (service.process.exitCode !== null || service.process.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => service.process.once('exit', () => resolve()));
  service.process.kill('SIGTERM');
  await exited;
}

const devicesCli = async (...args: string[]) => {
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'devices/src/cli.ts', ...args], { cwd: ROOT, env });
  cliStderr.push(stderr);
  return JSON.parse(stdout) as { secret: string };
};

const api = (path: string, init: { method?: string; token?: string; body?: unknown } = {}) =>
  fetch(`http://127.0.0.1:${ports.http}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });

const connect = (id: string, secret: string) =>
  new Promise<boolean>((resolve) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${ports.mqtt}`, { clientId: id, username: id, password: secret, reconnectPeriod: 0, connectTimeout: 5000 });
    client.once('connect', () => {
      client.publish(`devices/${id}/telemetry`, '{"LAeq":51,"LAmax":64}', { qos: 1 }, () => client.end(false, () => resolve(true)));
    });
    client.once('error', () => client.end(true, () => resolve(false)));
  });

beforeAll(async () => {
  dir = tempDir('city-secrets-in-logs-');
  influx = await startInfluxd({ dataDir: dir.path, httpPort: 0, logger: createLogger('influxd', 'silent') });
  ports = { mqtt: await freePort(), http: await freePort() };
  const serviceSecret = randomBytes(24).toString('base64url');
  const adminPassword = `admin-${randomBytes(9).toString('base64url')}`;
  secrets.set('service secret', serviceSecret);
  secrets.set('admin password', adminPassword);
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'debug',
    DATA_DIR: dir.path,
    MQTT_SERVICE_SECRET: serviceSecret,
    MQTT_URL: `mqtt://127.0.0.1:${ports.mqtt}`,
    INFLUX_URL: influx.url,
    DEMO_FLEET: 'off',
  };
  startService('broker', 'broker/src/index.ts', { MQTT_HOST: '127.0.0.1', MQTT_PORT: String(ports.mqtt), BROKER_METRICS_PORT: '0' });
  await waitForPort(ports.mqtt, '127.0.0.1', 30_000);
  startService('ingest', 'ingest/src/index.ts', { INGEST_METRICS_PORT: '0', BATCH_MAX_DELAY_MS: '100' });
  startService('api', 'api/src/index.ts', { HTTP_HOST: '127.0.0.1', HTTP_PORT: String(ports.http), ADMIN_PASSWORD: adminPassword });
  await waitForPort(ports.http, '127.0.0.1', 30_000);
}, 90_000);

afterAll(async () => {
  for (const service of services) await stopService(service);
  await influx?.stop();
  dir?.cleanup();
});

describe('secrets in logs', () => {
  it('never shows a secret, password, token or the service secret in any service\'s output, at debug level', async () => {
    const cli = await devicesCli('add', 'dn-logs-cli', '--kind', 'noise', '--lon', '108.2208', '--lat', '16.0544', '--json');
    secrets.set('device secret from the CLI', cli.secret);
    const guess = `${cli.secret.slice(0, -4)}AAAA`;
    secrets.set('a near-miss guess', guess);
    expect(await connect('dn-logs-cli', guess)).toBe(false);
    expect(await connect('dn-logs-cli', cli.secret)).toBe(true);

    const wrongPassword = `wrong-${randomBytes(9).toString('base64url')}`;
    secrets.set('a wrong password', wrongPassword);
    expect((await api('/api/v1/auth/login', { method: 'POST', body: { username: 'admin', password: wrongPassword } })).status).toBe(401);
    const login = await api('/api/v1/auth/login', { method: 'POST', body: { username: 'admin', password: secrets.get('admin password') } });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    secrets.set('admin token', token);

    const created = await api('/api/v1/devices', { method: 'POST', token, body: { id: 'dn-logs-api', kind: 'noise', lon: 108.2208, lat: 16.0544 } });
    expect(created.status).toBe(201);
    secrets.set('device secret from the api', ((await created.json()) as { secret: string }).secret);
    const rotated = await api('/api/v1/devices/dn-logs-api/rotate', { method: 'POST', token });
    expect(rotated.status).toBe(200);
    const apiSecret = ((await rotated.json()) as { secret: string }).secret;
    secrets.set('device secret rotated by the api', apiSecret);
    expect(await connect('dn-logs-api', secrets.get('device secret from the api') as string)).toBe(false);
    expect(await connect('dn-logs-api', apiSecret)).toBe(true);
    secrets.set('device secret rotated by the CLI', (await devicesCli('rotate', 'dn-logs-cli', '--json')).secret);

    const userPassword = `planner-${randomBytes(9).toString('base64url')}`;
    const newPassword = `planner-${randomBytes(9).toString('base64url')}`;
    secrets.set('a user password', userPassword);
    secrets.set('a changed password', newPassword);
    expect((await api('/api/v1/users', { method: 'POST', token, body: { username: 'planner-logs', role: 'planner', password: userPassword } })).status).toBe(201);
    expect((await api('/api/v1/users/planner-logs', { method: 'PATCH', token, body: { password: newPassword } })).status).toBe(200);
    const plannerLogin = await api('/api/v1/auth/login', { method: 'POST', body: { username: 'planner-logs', password: newPassword } });
    const plannerToken = ((await plannerLogin.json()) as { token: string }).token;
    secrets.set('planner token', plannerToken);

    const socket = new WebSocket(`ws://127.0.0.1:${ports.http}/api/v1/stream?access_token=${plannerToken}`);
    const firstMessage = new Promise<string>((resolve, reject) => {
      socket.once('message', (data) => resolve(String(data)));
      socket.once('error', reject);
    });
    expect(JSON.parse(await firstMessage)).toMatchObject({ type: 'snapshot' });
    const refused = new WebSocket(`ws://127.0.0.1:${ports.http}/api/v1/stream?access_token=${'Q'.repeat(43)}`);
    await new Promise((resolve) => refused.once('unexpected-response', (request) => resolve(request.destroy())));
    expect((await api('/api/v1/auth/me', { token: plannerToken })).status).toBe(200);
    expect((await api('/api/v1/auth/logout', { method: 'POST', token: plannerToken })).status).toBe(204);
    await new Promise((resolve) => (socket.readyState === WebSocket.CLOSED ? resolve(undefined) : socket.once('close', resolve)));

    // Stopped, so that their shutdown is in what is read, and read only once every flow has been logged.
    for (const service of services) await stopService(service);
    const byService = new Map<string, string>(services.map((service) => [service.name, service.output.join('')]));
    byService.set('devices CLI (stderr)', cliStderr.join(''));

    const everything = [...byService.values()].join('\n');
    // Debug logging really ran and saw these flows: a check on an empty log proves nothing.
    expect(everything).toMatch(/"level":20/);
    expect(byService.get('broker')).toContain('connect refused');
    expect(byService.get('api')).toContain('login failed');
    expect(byService.get('api')).toContain('access_token=[redacted]');

    const leaks = [...byService].flatMap(([name, output]) =>
      [...secrets].filter(([, secret]) => output.includes(secret)).map(([what]) => `${what} in the ${name} output`),
    );
    expect(leaks).toEqual([]);
  });
});
