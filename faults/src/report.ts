/**
 * Outcomes of the fault suite, one JSON file per fault under faults/results/ (each run of a test replaces its
 * own), turned into the docs/reliability.md table by write-report.ts. Kept apart from the assertions so that a
 * failing fault still leaves its figures for whoever investigates.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export interface FaultOutcome {
  /** Stable key, also the file name: `influxdb-outage`, `fuzz-mqtt`. */
  id: string;
  /** What was done to the platform, in one line. */
  fault: string;
  /** The load held during the fault: `load generator, 40 devices, 400 readings/s, QoS 1`. */
  load: string;
  /** What was lost; `nothing` when every acknowledged reading was found. */
  lost: string;
  /** Seconds from the fault's end until the platform was whole again (spool drained, clients back); null when not applicable. */
  recoverySeconds: number | null;
  /** Whether the test's assertions held. */
  passed: boolean;
  notes?: string;
}

export function recordOutcome(outcome: FaultOutcome): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${outcome.id}.json`), `${JSON.stringify({ ...outcome, recordedAt: new Date().toISOString() }, null, 2)}\n`);
}

export function readOutcomes(): (FaultOutcome & { recordedAt: string })[] {
  let files: string[];
  try {
    files = readdirSync(RESULTS_DIR).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  return files.sort().map((name) => JSON.parse(readFileSync(join(RESULTS_DIR, name), 'utf8')) as FaultOutcome & { recordedAt: string });
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function renderReport(outcomes: (FaultOutcome & { recordedAt: string })[]): string {
  const rows = outcomes.map((o) =>
    `| ${cell(o.fault)} | ${cell(o.load)} | ${cell(o.lost)} | ${o.recoverySeconds === null ? '—' : o.recoverySeconds.toFixed(1)} | ${o.passed ? 'pass' : '**FAIL**'} | ${cell(o.notes ?? '')} |`,
  );
  const when = outcomes.map((o) => o.recordedAt).sort();
  return [
    '# Reliability report',
    '',
    'Produced by `npm run test:faults` from the fault and abuse suite (`faults/test/`): each fault or attack, the load the',
    'platform held meanwhile, what was lost and how long it took to be whole again. Regenerate it by running the suite;',
    'do not edit it by hand.',
    '',
    when.length ? `Runs from ${when[0]} to ${when.at(-1)}, on ${process.platform} ${process.arch}, Node ${process.version}.` : 'No results yet.',
    '',
    '| fault or attack | load held | lost | recovery (s) | result | notes |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
