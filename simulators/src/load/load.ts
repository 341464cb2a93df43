/**
 * `npm run load -- --devices N --rate R --qos 0|1 --duration S [--payload traffic|air|mixed]`: N real,
 * provisioned device connections publishing R readings/s in total. Progress on stderr; the summary as
 * one JSON object on the last line of stdout.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeviceRegistry } from '@city/devices';
import { readSimConfig } from '../config.js';
import { progressLine } from '../progress.js';
import { LatencySample } from './latency.js';
import { kindFor, PAYLOAD_MIXES, type PayloadMix } from './payloads.js';
import type { WorkerReport, WorkerTask } from './worker.js';

/** Devices per process: well under the 20,000 file descriptors a process may hold. */
const DEVICES_PER_WORKER = 5000;

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '100' },
    rate: { type: 'string', default: '1000' },
    qos: { type: 'string', default: '1' },
    duration: { type: 'string', default: '30' },
    payload: { type: 'string', default: 'mixed' },
    workers: { type: 'string' },
    'max-in-flight': { type: 'string', default: '20000' },
    sdk: { type: 'boolean', default: false },
    help: { type: 'boolean' },
  },
});

const usage = [
  'Usage: npm run load -- --devices N --rate R --qos 0|1 --duration S [--payload traffic|air|mixed] [--workers W] [--sdk]',
  'Cách dùng: npm run load -- --devices N --rate R --qos 0|1 --duration S [--payload traffic|air|mixed] [--workers W] [--sdk]',
  '  --sdk: devices through the device SDK (QoS 1; reconnect with back-off, buffer while offline)',
  '  --sdk: thiết bị dùng SDK (QoS 1; tự kết nối lại với back-off, lưu đệm khi mất kết nối)',
  '',
].join('\n');
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const devices = Number(values.devices);
const rate = Number(values.rate);
const qos = Number(values.qos);
const durationS = Number(values.duration);
const payload = values.payload as PayloadMix;
const maxInFlight = Number(values['max-in-flight']);
if (!(devices >= 1) || !(rate > 0) || (qos !== 0 && qos !== 1) || (values.sdk && qos !== 1) || !(durationS > 0) || !PAYLOAD_MIXES.includes(payload) || !(maxInFlight >= 1)) {
  process.stderr.write(usage);
  process.exit(2);
}

const config = readSimConfig();
const deviceRateLimit = Number(process.env.DEVICE_RATE_LIMIT ?? 10);
if (rate / devices > deviceRateLimit) {
  process.stderr.write(`warning: ${(rate / devices).toFixed(1)} messages/s per device is above the broker's DEVICE_RATE_LIMIT of ${deviceRateLimit}; the excess will be dropped\n`);
}

const credentials = await provisionLoadDevices(devices, payload);
const workerCount = Math.max(Number(values.workers ?? 0), Math.ceil(devices / DEVICES_PER_WORKER));
const totals = new Map<number, WorkerReport>();
const latencies = new LatencySample();
const showConnect = progressLine('connecting');
let connectedWorkers = 0;
let startedAt = 0;
let lastLine = { at: 0, acknowledged: 0 };

const workers: ChildProcess[] = [];
const finished = Array.from({ length: workerCount }, (_, w) => {
  const share = credentials.filter((_, i) => i % workerCount === w);
  const child = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  workers.push(child);
  const task: WorkerTask = { url: config.mqttUrl, devices: share, rate: (rate * share.length) / devices, qos: qos as 0 | 1, durationS, maxInFlight: Math.ceil(maxInFlight / workerCount), sdk: values.sdk === true };
  child.send(task);
  return new Promise<void>((resolve) => {
    child.on('message', (report: WorkerReport) => {
      totals.set(w, report);
      latencies.merge(report.latencies);
      if (report.type === 'connected') {
        connectedWorkers++;
        showConnect(sum('connected'), devices);
        if (connectedWorkers === workerCount) startedAt = performance.now();
      } else showProgress();
    });
    child.once('exit', () => resolve());
  });
});

const stop = () => workers.forEach((child) => child.kill('SIGTERM'));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
await Promise.all(finished);

const elapsedS = startedAt > 0 ? (performance.now() - startedAt) / 1000 : 0;
const summary = {
  devices,
  connected: sum('connected'),
  connectFailures: sum('connectFailures'),
  qos,
  payload,
  durationS: Number(elapsedS.toFixed(2)),
  targetRate: rate,
  sent: sum('sent'),
  acknowledged: sum('acknowledged'),
  failed: sum('failed'),
  reconnects: sum('reconnects'),
  rate: Number((sum('acknowledged') / Math.max(elapsedS, 0.001)).toFixed(1)),
  latencyMs: latencies.percentiles(),
};
process.stderr.write('\n');
process.stdout.write(`${JSON.stringify(summary)}\n`);

function sum(key: 'connected' | 'connectFailures' | 'sent' | 'acknowledged' | 'failed' | 'reconnects'): number {
  let total = 0;
  for (const report of totals.values()) total += report[key];
  return total;
}

function showProgress(): void {
  const now = performance.now();
  if (now - lastLine.at < 1000) return;
  const acknowledged = sum('acknowledged');
  const current = lastLine.at > 0 ? ((acknowledged - lastLine.acknowledged) / (now - lastLine.at)) * 1000 : 0;
  lastLine = { at: now, acknowledged };
  const line = `sent ${sum('sent')}  acknowledged ${acknowledged}  errors ${sum('failed') + sum('connectFailures')}  rate ${current.toFixed(0)}/s`;
  process.stderr.write(process.stderr.isTTY ? `\r${line}   ` : `${line}\n`);
}

/** Load devices (`load-<n>`) are provisioned once through the registry and their secrets kept for later runs. */
async function provisionLoadDevices(count: number, mix: PayloadMix): Promise<WorkerTask['devices']> {
  const file = join(config.DATA_DIR, 'load', 'credentials.json');
  const known: Record<string, { secret: string; kind: string }> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const registry = DeviceRegistry.open(join(config.DATA_DIR, 'registry.db'));
  const show = progressLine('provisioning');
  const result: WorkerTask['devices'] = [];
  let changed = false;
  for (let i = 0; i < count; i++) {
    const kind = kindFor(mix, i);
    const id = `load-${kind}-${i}`;
    const stored = known[id];
    const device = registry.get(id);
    let secret = stored?.secret;
    if (!device) {
      secret = (await registry.add({ id, kind, lon: 108.2208, lat: 16.0544, name: `load ${i}`, actor: 'load-generator' })).secret;
      changed = true;
    } else if (!secret) {
      secret = await registry.rotate(id, 'load-generator');
      changed = true;
    }
    known[id] = { secret: secret as string, kind };
    result.push({ id, secret: secret as string, kind });
    show(i + 1, count);
  }
  registry.close();
  if (changed) {
    mkdirSync(join(config.DATA_DIR, 'load'), { recursive: true });
    writeFileSync(file, JSON.stringify(known), { mode: 0o600 });
  }
  return result;
}
