/**
 * `npm run load -- --devices N --rate R --qos 0|1 --duration S [--payload traffic|air|mixed]`: N real,
 * provisioned device connections publishing R readings/s in total. Progress on stderr; the summary as
 * one JSON object on the last line of stdout. The load devices stay registered (a later run reuses
 * them) until `--cleanup` removes them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeviceRegistry, MAX_BATCH_READINGS } from '@city/devices';
import { readSimConfig } from '../config.js';
import { progressLine } from '../progress.js';
import { provisionLoadDevices, removeLoadDevices } from './devices.js';
import { LatencySample } from './latency.js';
import { PAYLOAD_MIXES, type PayloadMix } from './payloads.js';
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
    'source-addresses': { type: 'string' },
    cleanup: { type: 'boolean', default: false },
    sdk: { type: 'boolean', default: false },
    'max-backoff': { type: 'string' },
    batch: { type: 'string', default: '1' },
    nice: { type: 'string' },
    help: { type: 'boolean' },
  },
});

const usage = [
  'Usage: npm run load -- --devices N --rate R --qos 0|1 --duration S [--payload traffic|air|mixed] [--workers W] [--source-addresses 127.0.0.1,127.0.0.2] [--batch B] [--sdk [--max-backoff S]]',
  '       npm run load -- --cleanup      remove the load devices from the registry (once ingest has caught up)',
  'Cách dùng: npm run load -- --devices N --rate R --qos 0|1 --duration S [--payload traffic|air|mixed] [--workers W] [--source-addresses 127.0.0.1,127.0.0.2] [--batch B] [--sdk [--max-backoff S]]',
  '           npm run load -- --cleanup  xóa các thiết bị tải khỏi sổ đăng ký (sau khi ingest đã xử lý hết)',
  '  --sdk: devices through the device SDK (QoS 1; reconnect with back-off, buffer while offline)',
  '  --sdk: thiết bị dùng SDK (QoS 1; tự kết nối lại với back-off, lưu đệm khi mất kết nối)',
  '  --batch B: each message is a gateway batch of B readings (bare connections; the rate counts messages)',
  '  --batch B: mỗi bản tin là một lô gateway gồm B phép đo (kết nối trần; tốc độ tính theo bản tin)',
  '  --max-backoff S: the SDK devices wait at most S seconds between reconnection attempts (the SDK default is 60)',
  '  --max-backoff S: thiết bị SDK chờ tối đa S giây giữa các lần thử kết nối lại (mặc định của SDK là 60)',
  '  --nice N: run the generator at CPU priority N (0-19): on the platform\'s own box it then yields a shared core to the platform',
  '  --nice N: chạy bộ tạo tải với mức ưu tiên CPU N (0-19): trên cùng máy với nền tảng, nó nhường lõi CPU cho nền tảng',
  '',
].join('\n');
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}

const config = readSimConfig();
const credentialsFile = join(config.DATA_DIR, 'load', 'credentials.json');
const openRegistry = () => DeviceRegistry.open(join(config.DATA_DIR, 'registry.db'));

if (values.cleanup) {
  const registry = openRegistry();
  const removed = removeLoadDevices(registry, credentialsFile);
  registry.close();
  process.stderr.write(`removed ${removed} load devices / đã xóa ${removed} thiết bị tải\n`);
  process.exit(0);
}

const devices = Number(values.devices);
const rate = Number(values.rate);
const qos = Number(values.qos);
const durationS = Number(values.duration);
const payload = values.payload as PayloadMix;
const maxInFlight = Number(values['max-in-flight']);
const batch = Number(values.batch);
const maxBackoffS = values['max-backoff'] === undefined ? undefined : Number(values['max-backoff']);
const niceness = values.nice === undefined ? undefined : Number(values.nice);
const sourceAddresses = values['source-addresses']?.split(',').map((address) => address.trim()).filter(Boolean) ?? [];
if (!(devices >= 1) || !(rate > 0) || (qos !== 0 && qos !== 1) || (values.sdk && qos !== 1) || !(durationS > 0) || !PAYLOAD_MIXES.includes(payload) || !(maxInFlight >= 1) || !(Number.isInteger(batch) && batch >= 1 && batch <= MAX_BATCH_READINGS && (batch === 1 || !values.sdk)) || (maxBackoffS !== undefined && !(values.sdk && maxBackoffS > 0)) || (niceness !== undefined && !(Number.isInteger(niceness) && niceness >= 0 && niceness <= 19))) {
  process.stderr.write(usage);
  process.exit(2);
}
if (sourceAddresses.length > 0 && values.sdk) {
  process.stderr.write('--source-addresses is for bare connections, not --sdk devices / --source-addresses chỉ dùng cho kết nối trần, không dùng với --sdk\n');
  process.exit(2);
}

const deviceRateLimit = Number(process.env.DEVICE_RATE_LIMIT ?? 10);
if (rate / devices > deviceRateLimit) {
  process.stderr.write(`warning: ${(rate / devices).toFixed(1)} messages/s per device is above the broker's DEVICE_RATE_LIMIT of ${deviceRateLimit}; the excess will be dropped\n`);
}

// Its workers take the priority from it as they are forked.
if (niceness !== undefined) setPriority(niceness);

const registry = openRegistry();
const showProvisioning = progressLine('provisioning');
const credentials = (await provisionLoadDevices(registry, credentialsFile, devices, payload, (done) => showProvisioning(done, devices))).map((device, i) =>
  sourceAddresses.length > 0 ? { ...device, sourceAddress: sourceAddresses[i % sourceAddresses.length] as string } : device,
);
const workerCount = Math.max(Number(values.workers ?? 0), Math.ceil(devices / DEVICES_PER_WORKER));
const totals = new Map<number, WorkerReport>();
const latencies = new LatencySample();
const showConnect = progressLine('connecting');
const connectStarted = performance.now();
let connectS = 0;
let connectedWorkers = 0;
let startedAt: Date | undefined;
let lastLine = { at: 0, acknowledged: 0 };

const workers: ChildProcess[] = [];
const finished = Array.from({ length: workerCount }, (_, w) => {
  const share = credentials.filter((_, i) => i % workerCount === w);
  // A profiled generator (`node --cpu-prof`) profiles its workers too.
  const profiling = process.execArgv.filter((arg) => arg.startsWith('--cpu-prof'));
  const child = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], { execArgv: [...profiling, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  workers.push(child);
  const task: WorkerTask = { url: config.mqttUrl, devices: share, rate: (rate * share.length) / devices, qos: qos as 0 | 1, durationS, maxInFlight: Math.ceil(maxInFlight / workerCount), sdk: values.sdk === true, batch, ...(maxBackoffS !== undefined && { maxReconnectMs: maxBackoffS * 1000 }) };
  child.send(task);
  return new Promise<void>((resolve) => {
    child.on('message', (report: WorkerReport) => {
      totals.set(w, report);
      latencies.merge(report.latencies);
      if (report.type === 'connecting' || report.type === 'connected') showConnect(sum('connected') + sum('connectFailures'), devices);
      if (report.type === 'connected' && ++connectedWorkers === workerCount) startPublishing();
      if (report.type === 'stats') showProgress();
    });
    child.once('exit', () => resolve());
  });
});

/** Every worker holds its connections: all start publishing together, so the window is one for all. */
function startPublishing(): void {
  connectS = (performance.now() - connectStarted) / 1000;
  startedAt = new Date();
  for (const child of workers) child.send('go');
}

const stop = () => workers.forEach((child) => child.kill('SIGTERM'));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
await Promise.all(finished);

const reports = [...totals.values()];
const publishS = Math.max(0, ...reports.map((report) => (report.publishMs ?? 0) / 1000));
const summary = {
  devices,
  connected: sum('connected'),
  connectFailures: sum('connectFailures'),
  sourceAddresses: sourceAddresses.length || 1,
  connectS: Number(connectS.toFixed(2)),
  qos,
  payload,
  startedAt: startedAt?.toISOString() ?? null,
  durationS: Number(publishS.toFixed(2)),
  drainS: Number(Math.max(0, ...reports.map((report) => (report.drainMs ?? 0) / 1000)).toFixed(2)),
  targetRate: rate,
  sent: sum('sent'),
  acknowledged: sum('acknowledged'),
  readingsPerMessage: batch,
  readingsAcknowledged: sum('acknowledged') * batch,
  failed: sum('failed'),
  reconnects: sum('reconnects'),
  rate: Number((sum('acknowledged') / Math.max(publishS, 0.001)).toFixed(1)),
  latencyMs: latencies.percentiles(),
};
registry.close();
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
