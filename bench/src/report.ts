/**
 * A bench run's results: bench/results/latest.json (the targets and every raw figure), latest.md (the same for
 * people, with the history of earlier runs) and history.jsonl, to which every run appends one line so that a
 * regression shows against the runs before it.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export interface Target {
  /** Stable across runs, for the history: `e2e_ingest_readings_per_s`. */
  name: string;
  value: number;
  unit: string;
  /** The bound as text, `>= 50000`, `<= 1.5`. */
  target: string;
  pass: boolean;
}

/** One measurement's outcome: its targets, the figures behind them, and what limits them when missed. */
export interface MeasurementResult {
  targets: Target[];
  raw: Record<string, unknown>;
  notes: string[];
}

export interface MeasurementRecord extends MeasurementResult {
  measurement: string;
  title: string;
  seconds: number;
  /** Set when the measurement threw; its targets are then recorded as failed. */
  error?: string;
}

export interface BenchRun {
  startedAt: string;
  quick: boolean;
  machine: { cpus: number; memoryGiB: number; node: string; platform: string };
  targets: Target[];
  measurements: MeasurementRecord[];
}

export function atLeast(name: string, value: number, bound: number, unit: string): Target {
  return { name, value, unit, target: `>= ${bound}`, pass: Number.isFinite(value) && value >= bound };
}

export function atMost(name: string, value: number, bound: number, unit: string): Target {
  return { name, value, unit, target: `<= ${bound}`, pass: Number.isFinite(value) && value <= bound };
}

export function readHistory(dir = RESULTS_DIR): BenchRun[] {
  const file = join(dir, 'history.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as BenchRun);
}

export function writeResults(run: BenchRun, dir = RESULTS_DIR): void {
  mkdirSync(dir, { recursive: true });
  const history = [...readHistory(dir), run];
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(run, null, 2)}\n`);
  appendFileSync(join(dir, 'history.jsonl'), `${JSON.stringify(run)}\n`);
  writeFileSync(join(dir, 'latest.md'), renderMarkdown(run, history));
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(3).replace(/\.?0+$/, '') || '0';
}

export function renderMarkdown(run: BenchRun, history: BenchRun[]): string {
  const passed = run.targets.filter((t) => t.pass).length;
  const lines = [
    '# Benchmark report',
    '',
    'Produced by `npm run bench` (bench/src/run.ts); do not edit by hand. Every figure was taken in the same run as its',
    'baseline, on one machine with everything on it, and ratios are the figures to compare between runs.',
    '',
    `Run ${run.startedAt}${run.quick ? ' (`--quick`)' : ''}: ${run.machine.cpus} cores, ${run.machine.memoryGiB} GiB, Node ${run.machine.node}, ${run.machine.platform}. ` +
      `**${passed} of ${run.targets.length} targets met.**`,
    '',
    '## Targets',
    '',
    '| target | value | unit | bound | result |',
    '|---|---|---|---|---|',
    ...run.targets.map((t) => `| ${cell(t.name)} | ${formatValue(t.value)} | ${cell(t.unit)} | ${cell(t.target)} | ${t.pass ? 'pass' : '**miss**'} |`),
    '',
  ];
  for (const m of run.measurements) {
    lines.push(`## ${m.title}`, '', `Took ${m.seconds.toFixed(0)} s.${m.error ? ` **Failed:** ${cell(m.error)}` : ''}`, '');
    for (const note of m.notes) lines.push(`- ${note}`);
    if (m.notes.length) lines.push('');
    lines.push('```json', JSON.stringify(m.raw, null, 2), '```', '');
  }
  const names = run.targets.map((t) => t.name);
  const recent = history.slice(-10);
  lines.push('## History (last 10 runs, oldest first)', '', `| target | ${recent.map((r) => r.startedAt.slice(0, 16) + (r.quick ? ' q' : '')).join(' | ')} |`);
  lines.push(`|---|${recent.map(() => '---').join('|')}|`);
  for (const name of names) {
    const values = recent.map((r) => {
      const t = r.targets.find((x) => x.name === name);
      return t ? `${formatValue(t.value)}${t.pass ? '' : ' ✗'}` : '—';
    });
    lines.push(`| ${cell(name)} | ${values.join(' | ')} |`);
  }
  lines.push('');
  return lines.join('\n');
}
