/** Shared measurements of the fault tests: how many load readings InfluxDB holds, and how long a condition took. */
import { waitFor } from '@city/platform';
import type { Stack } from '../../../ingest/test/helpers/stack.js';

/** The outage length: a minute behind FAULTS_LONG=1, shorter so that `npm test` stays within CI's time. */
export const OUTAGE_SECONDS = process.env.FAULTS_LONG === '1' ? 60 : 15;

export interface StoredLoad {
  total: number;
  /** Series per device id: more than one means a reading of that device was stored under other tags too. */
  seriesPerDevice: Map<string, number>;
}

/** The load generator's traffic readings in InfluxDB, counted per series (every tag). */
export async function storedLoad(stack: Stack): Promise<StoredLoad> {
  const rows = await stack.query(`SELECT count("intensity") FROM "traffic" WHERE device_id =~ /^load-/ GROUP BY *`);
  const seriesPerDevice = new Map<string, number>();
  let total = 0;
  for (const row of rows) {
    const device = String(row.device_id);
    seriesPerDevice.set(device, (seriesPerDevice.get(device) ?? 0) + 1);
    total += Number(row.count);
  }
  return { total, seriesPerDevice };
}

/** Seconds from `since` until `probe` holds, polled. */
export async function secondsUntil(what: string, since: number, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  await waitFor(what, probe, timeoutMs, 100);
  return (performance.now() - since) / 1000;
}

/** A fault lasts as long as the test says it does: this is its length, not a wait for something to happen. */
export function holdFault(seconds: number, since: number): Promise<void> {
  const remaining = seconds * 1000 - (performance.now() - since);
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, remaining)));
}
