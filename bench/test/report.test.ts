import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@city/platform/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { atLeast, atMost, readHistory, writeResults, type BenchRun } from '../src/report.js';
import { percentile, summarize } from '../src/stats.js';

const dirs: { cleanup(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

function benchRun(value: number, startedAt: string): BenchRun {
  const target = atLeast('e2e_ingest_readings_per_s', value, 50_000, 'readings/s');
  return {
    startedAt,
    quick: false,
    machine: { cpus: 2, memoryGiB: 24, node: 'v20', platform: 'linux x64' },
    targets: [target],
    measurements: [{ measurement: 'e2e-ingest', title: 'End-to-end ingest', seconds: 61, targets: [target], raw: { points: value * 60 }, notes: ['limited by the broker'] }],
  };
}

describe('bench report', () => {
  it('judges bounds, and a NaN figure never passes', () => {
    expect(atLeast('x', 50_000, 50_000, 'r/s').pass).toBe(true);
    expect(atLeast('x', 49_999, 50_000, 'r/s').pass).toBe(false);
    expect(atMost('x', 1.5, 1.5, 's').pass).toBe(true);
    expect(atMost('x', Number.NaN, 1.5, 's').pass).toBe(false);
  });

  it('writes latest.json and appends each run to the history shown in latest.md', () => {
    const dir = tempDir('bench-report-');
    dirs.push(dir);
    writeResults(benchRun(42_000, '2026-11-01T10:00:00.000Z'), dir.path);
    writeResults(benchRun(55_000, '2026-11-02T10:00:00.000Z'), dir.path);

    const latest = JSON.parse(readFileSync(join(dir.path, 'latest.json'), 'utf8')) as BenchRun;
    expect(latest.targets).toEqual([{ name: 'e2e_ingest_readings_per_s', value: 55_000, unit: 'readings/s', target: '>= 50000', pass: true }]);
    expect(readHistory(dir.path).map((r) => r.targets[0]!.value)).toEqual([42_000, 55_000]);
    const markdown = readFileSync(join(dir.path, 'latest.md'), 'utf8');
    expect(markdown).toContain('**1 of 1 targets met.**');
    expect(markdown).toContain('| e2e_ingest_readings_per_s | 42,000 ✗ | 55,000 |');
    expect(markdown).toContain('- limited by the broker');
  });
});

describe('percentiles', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(summarize(values)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });
});
