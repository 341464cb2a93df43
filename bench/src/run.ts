/**
 * `npm run bench [-- --quick] [-- --only name,name]`: takes every measurement in turn (one at a time, so that
 * none competes with another for the two cores), then writes bench/results/. Exits 0 whether or not the targets
 * were met: it reports, it does not gate.
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { tempDir } from '@city/platform/testing';
import { measurements } from './measurements/index.js';
import { RESULTS_DIR, writeResults, type BenchRun, type MeasurementRecord } from './report.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    [
      'Usage: npm run bench [-- --quick] [-- --only NAME[,NAME]]',
      'Cách dùng: npm run bench [-- --quick] [-- --only TÊN[,TÊN]]',
      `  measurements / phép đo: ${measurements.map((m) => m.name).join(', ')}`,
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const only = values.only?.split(',').map((name) => name.trim()).filter(Boolean);
const unknown = only?.filter((name) => !measurements.some((m) => m.name === name)) ?? [];
if (unknown.length) {
  process.stderr.write(`bench: unknown measurement ${unknown.join(', ')} / không có phép đo ${unknown.join(', ')}\n`);
  process.exit(2);
}
const chosen = measurements.filter((m) => !only || only.includes(m.name));

const run: BenchRun = {
  startedAt: new Date().toISOString(),
  quick: values.quick,
  machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` },
  targets: [],
  measurements: [],
};

for (const [index, measurement] of chosen.entries()) {
  const started = performance.now();
  const dir = tempDir(`city-bench-${measurement.name}-`);
  const progress = (message: string) => process.stderr.write(`bench ${index + 1}/${chosen.length} ${measurement.name}: ${message}\n`);
  progress(`${measurement.title} / bắt đầu`);
  let record: MeasurementRecord;
  try {
    const result = await measurement.run({ quick: values.quick, progress, dataDir: dir.path });
    record = { measurement: measurement.name, title: measurement.title, seconds: (performance.now() - started) / 1000, ...result };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    progress(`failed / thất bại: ${message}`);
    record = { measurement: measurement.name, title: measurement.title, seconds: (performance.now() - started) / 1000, targets: measurement.declares.map((t) => ({ ...t, value: Number.NaN, pass: false })), raw: {}, notes: [], error: message };
  } finally {
    dir.cleanup();
  }
  for (const target of record.targets) progress(`${target.name} = ${target.value} ${target.unit} (${target.target}) ${target.pass ? 'pass' : 'MISS'}`);
  run.measurements.push(record);
  run.targets.push(...record.targets);
}

writeResults(run);
const passed = run.targets.filter((t) => t.pass).length;
process.stderr.write(`bench: ${passed} of ${run.targets.length} targets met / đạt ${passed}/${run.targets.length} mục tiêu → ${RESULTS_DIR}latest.md\n`);
