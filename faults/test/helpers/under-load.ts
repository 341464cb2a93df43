/**
 * What every fault test under load begins with: a fault stack with ingest running, the load generator
 * publishing at the steady rate, readings already flowing into InfluxDB — and all of it stopped after
 * the test, whatever happened.
 */
import { afterEach, expect } from 'vitest';
import { waitFor } from '@city/platform';
import { startFaultStack, type FaultStack } from './fault-stack.js';
import { startLoad, type LoadRun, type LoadSummary } from './load-run.js';
import { storedLoad, type StoredLoad } from './measure.js';

/** The steady load: 10 readings/s per device, the broker's default per-device rate. */
export const LOAD = { devices: 40, rate: 400 } as const;

export interface UnderLoad {
  stack: FaultStack;
  load: LoadRun;
}

/** Registers the clean-up; each call of the returned function starts one platform under load. */
export function faultsUnderLoad(): (options: { env?: Record<string, string>; loadSeconds: number; beforeIngest?: (stack: FaultStack) => void }) => Promise<UnderLoad> {
  let running: Partial<UnderLoad> = {};
  afterEach(async () => {
    running.load?.stop();
    await running.stack?.close();
    running = {};
  });
  return async ({ env = {}, loadSeconds, beforeIngest }) => {
    const stack = (running.stack = await startFaultStack({ BATCH_MAX_DELAY_MS: '200', ...env }));
    beforeIngest?.(stack);
    await stack.startIngest();
    const load = (running.load = startLoad(stack, { ...LOAD, durationS: loadSeconds }));
    await waitFor('the load to flow into InfluxDB', async () => load.acknowledged() > LOAD.rate * 2 && (await storedLoad(stack)).total > 0, 60_000);
    return { stack, load };
  };
}

export interface Accounting {
  summary: LoadSummary;
  stored: StoredLoad;
  /** For the report: `nothing`, or how many acknowledged readings are missing. */
  lost: string;
}

/**
 * Once the load has run its course and `settled` holds (the spool drained, nothing awaiting an
 * acknowledgement), what the generator had acknowledged against what InfluxDB holds.
 */
export async function accountForLoad({ stack, load }: UnderLoad, settled: () => Promise<boolean>): Promise<Accounting> {
  const summary = await load.finished;
  expect(summary).toMatchObject({ connected: LOAD.devices, connectFailures: 0, failed: 0 });
  await waitFor('every acknowledged reading in InfluxDB', async () => (await storedLoad(stack)).total >= summary.acknowledged, 60_000);
  await waitFor('the platform to settle', settled, 60_000);
  const stored = await storedLoad(stack);
  const missing = summary.acknowledged - stored.total;
  return { summary, stored, lost: missing === 0 ? 'nothing' : `${missing} of ${summary.acknowledged} acknowledged readings` };
}

/** Exactly once per (device, timestamp): as many readings as were acknowledged, each device in one series. */
export function expectExactlyOnce({ summary, stored }: Accounting): void {
  expect(stored.total).toBe(summary.acknowledged);
  expect(stored.seriesPerDevice.size).toBe(LOAD.devices);
  expect([...stored.seriesPerDevice.values()].every((series) => series === 1)).toBe(true);
}
