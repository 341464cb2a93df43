/**
 * Ingest SIGKILLed under steady QoS 1 load and started again: its persistent session makes the broker
 * hold and redeliver whatever it had not acknowledged, so every reading the broker acknowledged to a
 * device is stored, exactly once per (device, timestamp).
 */
import { describe, expect, it } from 'vitest';
import { recordOutcome } from '../src/report.js';
import { accountForLoad, expectExactlyOnce, faultsUnderLoad, LOAD } from './helpers/under-load.js';
import { holdFault, secondsUntil, storedLoad } from './helpers/measure.js';

const start = faultsUnderLoad();
const DOWN_SECONDS = 5;

describe('ingest killed under load', () => {
  it('loses no acknowledged reading when SIGKILLed mid-stream and restarted', async () => {
    const { stack: current, load: run } = await start({ loadSeconds: DOWN_SECONDS + 20 });
    const outcome = { id: 'ingest-kill', fault: `ingest SIGKILLed mid-stream, started again ${DOWN_SECONDS} s later`, load: run.describe(), lost: 'not measured', recoverySeconds: null as number | null, passed: false, notes: '' };
    try {
      await current.killIngest();
      const killedAt = performance.now();
      const atKill = run.acknowledged();
      await holdFault(DOWN_SECONDS, killedAt);
      expect(run.acknowledged()).toBeGreaterThan(atKill);

      const restartedAt = performance.now();
      const acknowledgedAtRestart = run.acknowledged();
      await current.startIngest();
      // Whole again when ingest has caught up: the backlog the broker held is in and nothing waits for an acknowledgement.
      const recoverySeconds = await secondsUntil(
        'ingest to catch up with the backlog',
        restartedAt,
        async () => (await storedLoad(current)).total >= acknowledgedAtRestart && (await current.ingestMetric('ingest_pending_acks')) < LOAD.rate,
        120_000,
      );
      outcome.recoverySeconds = recoverySeconds;

      const accounting = await accountForLoad({ stack: current, load: run }, async () => (await current.ingestMetric('ingest_pending_acks')) === 0);
      const { summary, stored } = accounting;
      outcome.lost = accounting.lost;
      outcome.notes = `${summary.acknowledged} readings acknowledged, ${stored.total} stored, one series per device; ${acknowledgedAtRestart - atKill} acknowledged by the broker while ingest was down; recovery = ingest started again and caught up with the backlog`;
      expectExactlyOnce(accounting);
      outcome.passed = true;
    } finally {
      recordOutcome(outcome);
    }
  }, 300_000);
});
