/**
 * InfluxDB SIGKILLed under steady QoS 1 load and restarted after OUTAGE_SECONDS: every reading the
 * broker acknowledged is stored exactly once per (device, timestamp), the spool drains, and the api's
 * health says InfluxDB is down for as long as it is.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '@city/platform';
import { recordOutcome } from '../src/report.js';
import { accountForLoad, expectExactlyOnce, faultsUnderLoad } from './helpers/under-load.js';
import { holdFault, OUTAGE_SECONDS, secondsUntil } from './helpers/measure.js';

const start = faultsUnderLoad();

describe('InfluxDB killed under load', () => {
  it(`loses nothing the broker acknowledged through a ${OUTAGE_SECONDS} s outage, drains its spool and reports the outage in health`, async () => {
    const { stack: current, load: run } = await start({ loadSeconds: OUTAGE_SECONDS + 20 });
    const outcome = { id: 'influxdb-outage', fault: `InfluxDB SIGKILLed for ${OUTAGE_SECONDS} s, then restarted`, load: run.describe(), lost: 'not measured', recoverySeconds: null as number | null, passed: false, notes: '' };
    try {
      expect((await current.health()).status).toBe(200);

      current.influx.kill('SIGKILL');
      const killedAt = performance.now();
      await waitFor('health to report InfluxDB down', async () => {
        const health = await current.health();
        return health.status === 503 && health.components.influxdb === 'down';
      }, 10_000);
      await waitFor('the spool to take the outage', async () => (await current.ingestMetric('ingest_spool_records')) > 0, 10_000);
      const duringOutage = await current.health();
      expect(duringOutage).toMatchObject({ status: 503, components: { influxdb: 'down', broker: 'up', registry: 'up' } });
      await holdFault(OUTAGE_SECONDS, killedAt);
      const spooledBatches = await current.ingestMetric('ingest_spool_records');
      expect((await current.health()).components.influxdb).toBe('down');

      await current.influx.restart();
      const restartedAt = performance.now();
      const healthySeconds = await secondsUntil('health to recover', restartedAt, async () => (await current.health()).status === 200, 30_000);
      const drainSeconds = await secondsUntil('the spool to drain', restartedAt, async () => (await current.ingestMetric('ingest_spool_records')) === 0, 120_000);
      outcome.recoverySeconds = drainSeconds;

      const accounting = await accountForLoad({ stack: current, load: run }, async () => (await current.ingestMetric('ingest_spool_records')) === 0);
      const { summary, stored } = accounting;
      outcome.lost = accounting.lost;
      outcome.notes = `${summary.acknowledged} readings acknowledged, ${stored.total} stored, one series per device; ${spooledBatches} batches spooled; health 503 naming influxdb during the outage, 200 again ${healthySeconds.toFixed(1)} s after the restart (the console's health badge reads the same endpoint); recovery = spool drained`;
      expectExactlyOnce(accounting);
      outcome.passed = true;
    } finally {
      recordOutcome(outcome);
    }
  }, 300_000);
});
