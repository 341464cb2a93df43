/**
 * The spool's volume full while InfluxDB is down, under steady QoS 1 load: ingest says so (a log line
 * and `ingest_spool_full`), holds its acknowledgements so that the broker keeps the messages, leaves
 * the spool readable, and once there is room again loses nothing the broker acknowledged. The room
 * runs out two ways: at SPOOL_MAX_BYTES (always), and on a real full disk, a small tmpfs mounted over
 * the spool directory (when running as root where `mount` works).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@city/platform';
import { Spool } from '../../ingest/src/spool.js';
import { recordOutcome } from '../src/report.js';
import type { FaultStack } from './helpers/fault-stack.js';
import { secondsUntil } from './helpers/measure.js';
import { accountForLoad, expectExactlyOnce, faultsUnderLoad, LOAD } from './helpers/under-load.js';

const start = faultsUnderLoad();
const CAP_BYTES = 256 * 1024;

/** Whole again: the spool drained and taking batches, acknowledgements no further behind than the live load's. */
const recovered = (stack: FaultStack, pendingAtMost: number) => async () =>
  (await stack.ingestMetric('ingest_spool_records')) === 0 && (await stack.ingestMetric('ingest_spool_full')) === 0 && (await stack.ingestMetric('ingest_pending_acks')) <= pendingAtMost;
const settled = (stack: FaultStack) => recovered(stack, 0);

/** Segment sizes of the spool, to tell whether opening it had to cut a torn record. */
function segmentSizes(dir: string): Record<string, number> {
  return Object.fromEntries(readdirSync(dir).filter((name) => name.endsWith('.seg')).map((name) => [name, statSync(join(dir, name)).size]));
}

/** Takes every byte left on the volume, so that not even the spool's cursor can be rewritten. */
function fillVolume(dir: string): void {
  const fd = openSync(join(dir, 'filler'), 'w');
  const block = Buffer.alloc(512);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = join(process.env.TMPDIR ?? '/tmp', `tmpfs-probe-${process.pid}`);
  try {
    mkdirSync(probe, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    execFileSync('rmdir', [probe], { stdio: 'ignore' });
  }
}

describe('the spool volume full under load', () => {
  it('at SPOOL_MAX_BYTES: says so, keeps the spool readable across a SIGKILL, and loses nothing once the limit is raised and InfluxDB is back', async () => {
    const env = { SPOOL_MAX_BYTES: String(CAP_BYTES), INGEST_MAX_UNACKED: '2000', INGEST_KEEPALIVE_SECONDS: '2', LOG_LEVEL: 'info' };
    const { stack, load } = await start({ env, loadSeconds: 40 });
    const outcome = { id: 'spool-full-cap', fault: `spool at its size limit (SPOOL_MAX_BYTES ${CAP_BYTES / 1024} KiB) with InfluxDB SIGKILLed; ingest SIGKILLed while full, restarted with a raised limit, then InfluxDB restarted`, load: load.describe(), lost: 'not measured', recoverySeconds: null as number | null, passed: false, notes: '' };
    try {
      stack.influx.kill('SIGKILL');
      await waitFor('the spool to fill', async () => (await stack.ingestMetric('ingest_spool_full')) === 1, 60_000);
      expect(stack.ingestLogs().filter((msg) => msg.startsWith('spool full'))).toHaveLength(1);
      expect(await stack.ingestMetric('ingest_spool_bytes')).toBeLessThanOrEqual(CAP_BYTES);
      const atFull = load.acknowledged();
      await waitFor('the broker to keep accepting readings while the spool is full', () => load.acknowledged() > atFull + 1000, 30_000);

      const spooled = await stack.ingestMetric('ingest_spool_records');
      await stack.killIngest();
      const spoolDir = join(stack.dataDir, 'spool');
      const sizes = segmentSizes(spoolDir);
      const reopened = await Spool.open(spoolDir, { maxBytes: CAP_BYTES });
      const readable = reopened.depth();
      await reopened.close();
      expect(readable.records).toBe(spooled);
      expect(segmentSizes(spoolDir)).toEqual(sizes);

      await stack.startIngest({ SPOOL_MAX_BYTES: String(64 * 1024 ** 2) });
      await waitFor('the spool to take batches again under the raised limit', async () => (await stack.ingestMetric('ingest_spool_records')) > spooled, 30_000);
      expect(await stack.ingestMetric('ingest_spool_full')).toBe(0);

      await stack.influx.restart();
      outcome.recoverySeconds = await secondsUntil('the spool to drain', performance.now(), recovered(stack, LOAD.rate), 120_000);
      const accounting = await accountForLoad({ stack, load }, settled(stack));
      outcome.lost = accounting.lost;
      outcome.notes = `${accounting.summary.acknowledged} readings acknowledged, ${accounting.stored.total} stored; one "spool full" error and ingest_spool_full = 1 while full; ${spooled} spooled batches read back intact after the SIGKILL; recovery = from InfluxDB's restart until the spool drained and acknowledgements caught up with the live load`;
      expectExactlyOnce(accounting);
      outcome.passed = true;
    } finally {
      recordOutcome(outcome);
    }
  }, 300_000);

  it.skipIf(!canMountTmpfs())('on a full tmpfs: says so, cuts no record in half, and loses nothing once InfluxDB is back and the replay frees the disk', async () => {
    const spoolDir = (dataDir: string) => join(dataDir, 'spool');
    const { stack, load } = await start({
      env: { INGEST_MAX_UNACKED: '2000', INGEST_KEEPALIVE_SECONDS: '2', LOG_LEVEL: 'info' },
      loadSeconds: 30,
      beforeIngest: (fresh) => {
        mkdirSync(spoolDir(fresh.dataDir), { recursive: true });
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${CAP_BYTES}`, 'tmpfs', spoolDir(fresh.dataDir)]);
        fresh.onClose(() => execFileSync('umount', [spoolDir(fresh.dataDir)]));
      },
    });
    const outcome = { id: 'spool-full-disk', fault: `spool on a ${CAP_BYTES / 1024} KiB tmpfs filled to the last byte (ENOSPC) with InfluxDB SIGKILLed, then InfluxDB restarted`, load: load.describe(), lost: 'not measured', recoverySeconds: null as number | null, passed: false, notes: '' };
    try {
      stack.influx.kill('SIGKILL');
      await waitFor('the disk to fill', async () => (await stack.ingestMetric('ingest_spool_full')) === 1, 60_000);
      expect(stack.ingestLogs().filter((msg) => msg.startsWith('spool full'))).toHaveLength(1);
      const atFull = load.acknowledged();
      await waitFor('the broker to keep accepting readings while the disk is full', () => load.acknowledged() > atFull + 1000, 30_000);
      const spooled = await stack.ingestMetric('ingest_spool_records');
      fillVolume(spoolDir(stack.dataDir));

      await stack.influx.restart();
      outcome.recoverySeconds = await secondsUntil('the spool to drain', performance.now(), recovered(stack, LOAD.rate), 120_000);
      expect(stack.ingestLogs()).toContain('the spool has room again: batches are made durable and acknowledged');
      const accounting = await accountForLoad({ stack, load }, settled(stack));
      outcome.lost = accounting.lost;
      outcome.notes = `${accounting.summary.acknowledged} readings acknowledged, ${accounting.stored.total} stored; ENOSPC reported as a full spool (one error line, ingest_spool_full = 1); the volume then filled to the last byte, and the ${spooled} spooled batches still replayed; recovery = from InfluxDB's restart until the spool drained and acknowledgements caught up with the live load`;
      expectExactlyOnce(accounting);
      outcome.passed = true;
    } finally {
      recordOutcome(outcome);
    }
  }, 300_000);
});
