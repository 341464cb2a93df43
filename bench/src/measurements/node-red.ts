/**
 * Our ingest against a Node-RED flow (mqtt in → function → influxdb out) on the same stream from the same
 * broker into the same InfluxDB. One consumer at a time: both would otherwise split the two cores between them,
 * and the faster one would be measured on the CPU the slower one left it. Rounds alternate ours / Node-RED so
 * that the machine's drift hits both. Each round publishes a fixed stream at a rate above what either takes
 * and counts the points that reach InfluxDB, on the platform as it runs (the broker keeps ingest's persistent
 * session in its durable store).
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import mqtt from 'mqtt';
import { influxQuery } from '@city/platform';
import { freePort } from '@city/platform/testing';
import { startPlatform, type LoadSummary, type PlatformStack } from '@city/faults/platform-stack';
import type { BenchContext, Measurement } from '../measurement.js';
import { atLeast } from '../report.js';
import { round } from '../stats.js';
import { ensureNodeRed } from '../node-red-install.js';
import { writeNodeRedFiles } from '../node-red-flow.js';
import { startNodeRed } from '../node-red-process.js';
import { processCpuSeconds } from '../process-cpu.js';

const NODE_RED_DB = 'nodered';
const MEASUREMENT = 'traffic';
/** Few connections with a raised per-device limit: the stream's rate is what matters here, not the fan-in. */
const DEVICES = 200;
const DEVICE_RATE_LIMIT = 1000;
const INGEST_SESSION = 'service:ingest';
const POLL_MS = 500;
const STALL_MS = 5000;
const NOTHING_ARRIVED_MS = 60_000;

/** What a round reads from its consumer: CPU time so far and, for ingest, the messages it holds unacknowledged. */
interface ConsumerProbe {
  cpuSeconds(): Promise<number>;
  pendingAcks?(): Promise<number>;
}

type Consumer = 'ingest' | 'node-red';
interface RoundResult {
  consumer: Consumer;
  sent: number;
  stored: number;
  /** Points stored per second, from the start of publishing until the last point counted. */
  rate: number;
  publishS: number;
  /** From the end of publishing until the last point counted. */
  lagS: number;
  /** Whether the count was still rising when the round's time ran out (lag rather than loss). */
  stillWriting: boolean;
  consumerCpuS: number;
  brokerCpuS: number;
  influxdCpuS: number;
  /** Consumer CPU per thousand stored readings. */
  cpuMsPerThousand: number;
  /** Ingest only: messages received and not yet written, averaged over the polls; near 0 means it waited for the broker. */
  meanPendingAcks?: number;
  nodeRedErrors?: number;
}

export const nodeRed: Measurement = {
  name: 'node-red',
  title: 'Ingest against a Node-RED flow (same stream, same broker, same InfluxDB)',
  declares: [{ name: 'ingest_vs_node_red_ratio', unit: '×', target: '>= 3' }],
  async run(ctx) {
    const install = await ensureNodeRed(ctx.progress);
    const plan: Plan = ctx.quick ? { rate: 20_000, durationS: 3, drainS: 4 } : { rate: 20_000, durationS: 10, drainS: 10 };
    const pairs = ctx.quick ? 1 : 2;
    const rounds: RoundResult[] = [];
    ctx.progress('starting influxd, broker and ingest / khởi động influxd, broker và ingest');
    const stack = await startPlatform({ env: { DEVICE_RATE_LIMIT: String(DEVICE_RATE_LIMIT), DEVICE_RATE_BURST: String(2 * DEVICE_RATE_LIMIT) } });
    try {
      // The api takes telemetry too; it would compete with both consumers for the cores.
      await stack.api.stop();
      await influxQuery(stack.influx.url, undefined, `CREATE DATABASE "${NODE_RED_DB}"`);
      for (let pair = 0; pair < pairs; pair++) {
        for (const consumer of ['ingest', 'node-red'] as const) {
          const n = rounds.length + 1;
          ctx.progress(`round ${n}/${2 * pairs}: ${consumer}, ${plan.rate} readings/s offered for ${plan.durationS} s / lượt ${n}/${2 * pairs}: ${consumer}`);
          const result = consumer === 'ingest' ? await ingestRound(stack, plan) : await nodeRedRound(stack, ctx, install.entry, n, plan);
          ctx.progress(`${consumer}: ${result.stored}/${result.sent} stored, ${Math.round(result.rate)} readings/s / đã lưu ${result.stored}/${result.sent}`);
          rounds.push(result);
        }
      }
    } finally {
      await stack.close();
    }
    return summarize(rounds, plan, install.versions);
  },
};

interface Plan {
  rate: number;
  durationS: number;
  drainS: number;
}

async function ingestRound(stack: PlatformStack, plan: Plan): Promise<RoundResult> {
  if (!stack.ingest.running) await stack.ingest.start();
  const probe = { cpuSeconds: () => stack.ingestMetric('process_cpu_seconds_total'), pendingAcks: () => stack.ingestMetric('ingest_pending_acks') };
  try {
    return await measureRound(stack, 'ingest', 'city', plan, probe);
  } finally {
    await stack.ingest.stop();
    // Ingest's session is persistent: left behind, the broker would queue the next Node-RED round for it.
    await dropSession(stack, INGEST_SESSION);
  }
}

async function nodeRedRound(stack: PlatformStack, ctx: BenchContext, entry: string, index: number, plan: Plan): Promise<RoundResult> {
  const userDir = join(ctx.dataDir, `node-red-${index}`);
  mkdirSync(userDir, { recursive: true });
  const influx = new URL(stack.influx.url);
  const broker = new URL(stack.mqttUrl);
  const { settingsFile } = writeNodeRedFiles({
    userDir,
    port: await freePort(),
    mqtt: { host: broker.hostname, port: Number(broker.port), clientId: 'service:nodered-bench', username: 'service:nodered', password: stack.serviceSecret },
    influx: { host: influx.hostname, port: Number(influx.port), database: NODE_RED_DB, measurement: MEASUREMENT },
  });
  const flow = await startNodeRed(entry, userDir, settingsFile);
  try {
    const result = await measureRound(stack, 'node-red', NODE_RED_DB, plan, { cpuSeconds: async () => flow.cpuSeconds() });
    return { ...result, nodeRedErrors: flow.errors() };
  } finally {
    await flow.stop();
  }
}

async function dropSession(stack: PlatformStack, clientId: string): Promise<void> {
  const client = await mqtt.connectAsync(stack.mqttUrl, { clientId, username: clientId, password: stack.serviceSecret, clean: true, reconnectPeriod: 0 });
  await client.endAsync();
}

/** CPU time so far of the servers both consumers share. */
async function serversCpu(stack: PlatformStack): Promise<{ broker: number; influxd: number }> {
  const of = (pid: number | undefined) => (pid === undefined ? Number.NaN : processCpuSeconds(pid));
  return { broker: await stack.brokerMetric('process_cpu_seconds_total'), influxd: of(stack.influx.pid) };
}

async function countPoints(stack: PlatformStack, db: string, sinceMs: number): Promise<number> {
  const rows = await influxQuery(stack.influx.url, db, `SELECT count("intensity") FROM "${MEASUREMENT}" WHERE time >= ${sinceMs}ms`);
  return Number(rows[0]?.count ?? 0);
}

/**
 * Publishes the round's stream and polls InfluxDB until every acknowledged reading is counted, the count
 * stops rising, or the round's time (publishing and the drain after it, from the first point) runs out; then
 * the generator is stopped, as a shared machine may slow it past its duration.
 */
async function measureRound(stack: PlatformStack, consumer: Consumer, db: string, plan: Plan, probe: ConsumerProbe): Promise<Omit<RoundResult, 'nodeRedErrors'>> {
  const since = Date.now();
  const [cpuBefore, serversBefore] = [await probe.cpuSeconds(), await serversCpu(stack)];
  let loadPid: number | undefined;
  // The generator prints its summary also when stopped early (SIGTERM).
  const loaded = stack.load({ devices: DEVICES, rate: plan.rate, durationS: plan.durationS, qos: 1, sdk: false, payload: 'traffic', onStart: (pid) => (loadPid = pid) });
  let summary: LoadSummary | undefined;
  let loadError: unknown;
  void loaded.then(
    (result) => (summary = result),
    (error: unknown) => (loadError = error),
  );
  const polledFrom = performance.now();
  let stored = 0;
  let firstSeenAt: number | undefined;
  let lastRiseAt = polledFrom;
  let lastRiseWall = since;
  let loadEndedAt: number | undefined;
  const pending: number[] = [];
  try {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (loadError) throw loadError;
      const now = performance.now();
      const count = await countPoints(stack, db, since);
      if (probe.pendingAcks) pending.push(await probe.pendingAcks());
      if (count > stored) {
        stored = count;
        firstSeenAt ??= now;
        lastRiseAt = now;
        lastRiseWall = Date.now();
      }
      if (summary) loadEndedAt ??= now;
      if (summary && stored >= summary.acknowledged) break;
      // Stalled: what has not arrived this long after the last publish is lost, not late.
      if (loadEndedAt !== undefined && now - Math.max(lastRiseAt, loadEndedAt) > STALL_MS) break;
      if (firstSeenAt !== undefined && now - firstSeenAt > (plan.durationS + plan.drainS) * 1000) break;
      if (firstSeenAt === undefined && now - polledFrom > NOTHING_ARRIVED_MS) throw new Error(`${consumer} stored nothing within ${NOTHING_ARRIVED_MS / 1000} s / ${consumer} không lưu được gì`);
    }
  } finally {
    if (loadPid !== undefined && summary === undefined && loadError === undefined) {
      try {
        process.kill(loadPid, 'SIGTERM');
      } catch {
        // It ended by itself in the meantime; its summary is on the way.
      }
    }
  }
  const result = await loaded;
  const stillWriting = stored < result.acknowledged && performance.now() - lastRiseAt < STALL_MS;
  const [cpuAfter, serversAfter] = [await probe.cpuSeconds(), await serversCpu(stack)];
  const publishStart = result.startedAt ? Date.parse(result.startedAt) : since;
  // A generator stopped before its end reports no publishing time; it published at most its planned duration.
  const publishS = result.durationS || plan.durationS;
  const publishEnd = publishStart + publishS * 1000;
  const activeS = Math.max(0.001, (lastRiseWall - publishStart) / 1000);
  return {
    consumer,
    sent: result.acknowledged,
    stored,
    rate: stored / activeS,
    publishS,
    lagS: round(Math.max(0, (lastRiseWall - publishEnd) / 1000), 1),
    stillWriting,
    consumerCpuS: round(cpuAfter - cpuBefore, 2),
    brokerCpuS: round(serversAfter.broker - serversBefore.broker, 2),
    influxdCpuS: round(serversAfter.influxd - serversBefore.influxd, 2),
    cpuMsPerThousand: round(((cpuAfter - cpuBefore) * 1e6) / Math.max(1, stored), 1),
    ...(pending.length ? { meanPendingAcks: Math.round(pending.reduce((a, b) => a + b, 0) / pending.length) } : {}),
  };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/** Both consumers' mean rates and CPU per reading over a stage's rounds, and the ratios between them. */
function compare(rounds: RoundResult[]) {
  const ours = rounds.filter((r) => r.consumer === 'ingest');
  const theirs = rounds.filter((r) => r.consumer === 'node-red');
  const ingestRate = mean(ours.map((r) => r.rate));
  const nodeRedRate = mean(theirs.map((r) => r.rate));
  const pairRatios = ours.map((r, i) => r.rate / (theirs[i]?.rate ?? Number.NaN));
  const ingestCpu = mean(ours.map((r) => r.cpuMsPerThousand));
  const nodeRedCpu = mean(theirs.map((r) => r.cpuMsPerThousand));
  return {
    ours,
    theirs,
    ingestRate,
    nodeRedRate,
    // Each pair ran back to back, so its ratio cancels the machine's drift; their geometric mean weighs a slow pair and a fast one alike.
    ratio: Math.exp(mean(pairRatios.map(Math.log))),
    pairRatios: pairRatios.map((ratio) => round(ratio, 2)),
    ingestCpu,
    nodeRedCpu,
    cpuRatio: nodeRedCpu / ingestCpu,
  };
}

const list = (values: (number | string | undefined)[]) => values.join(', ');

function summarize(rounds: RoundResult[], plan: Plan, versions: Record<string, string>) {
  const main = compare(rounds);
  const pairs = main.ours.length;
  const notes = [
    `One consumer at a time, alternating ingest / Node-RED ${pairs}× on the platform as it runs (ingest's session in the broker's durable store): ${DEVICES} bare device connections publish ${plan.rate} readings/s offered (QoS 1, traffic payloads) for ${plan.durationS} s per round; points counted in InfluxDB (ingest: database city, Node-RED: database ${NODE_RED_DB}). A rate is stored points over the time from the first publish to the last point counted, at most ${plan.drainS} s after publishing ended; the target is the geometric mean of the pairs' ratios.`,
    `The Node-RED flow is mqtt in (QoS 1, JSON, clean session, the node's default) → function (fields, device_id tag, ts as time) → influxdb out (1.x, one HTTP write per message, as the node does); Node-RED ${versions['node-red']} with node-red-contrib-influxdb ${versions['node-red-contrib-influxdb']} on the same Node as the platform (Node-RED 5 needs Node 22). It acknowledges each message to the broker on receipt, before InfluxDB has it; ingest only once the batch is in InfluxDB or its spool.`,
    `Per-pair ratios ${list(main.pairRatios)} show the run's noise; the machine is shared, so compare ratios, not absolute rates.`,
    `CPU per 1,000 stored readings: ingest ${main.ingestCpu.toFixed(0)} ms, Node-RED ${main.nodeRedCpu.toFixed(0)} ms (${main.cpuRatio.toFixed(1)}× ingest's); this ratio depends far less on what else the machine runs than the rates do.`,
  ];
  const lost = main.theirs.filter((r) => r.stored < r.sent && !r.stillWriting);
  if (lost.length) notes.push(`Node-RED's count stopped rising for ${STALL_MS / 1000} s with readings missing (${list(lost.map((r) => `${r.sent - r.stored} of ${r.sent}`))}): already acknowledged to the broker, they were in its process or gone when it was stopped.`);
  const lagging = main.theirs.filter((r) => r.stillWriting);
  if (lagging.length) notes.push(`Node-RED was still writing when its round ended (${list(lagging.map((r) => `${r.stored} of ${r.sent} stored`))}); its rate is what it had written by then, and the rest sat in its process, already acknowledged to the broker.`);
  const oursShort = main.ours.filter((r) => r.stored < r.sent);
  if (oursShort.length) notes.push(`Ingest stored fewer than sent by the round's end in ${oursShort.length} round(s): ${list(oursShort.map((r) => `${r.stored} of ${r.sent}${r.stillWriting ? ' (still writing; the rest waited in the broker)' : ''}`))}.`);
  const starved = main.ours.filter((r) => (r.meanPendingAcks ?? Infinity) < 1000);
  if (starved.length)
    notes.push(
      `Ingest held few unacknowledged messages (mean ${list(starved.map((r) => r.meanPendingAcks))}) in ${starved.length} of ${pairs} round(s): it waited for the broker's deliveries (broker CPU ${list(starved.map((r) => r.brokerCpuS))} s against ingest's ${list(starved.map((r) => r.consumerCpuS))} s). ` +
        'Ingest\'s session is persistent, so the broker writes every QoS 1 message in flight to it to its durable store before acknowledging it; Node-RED\'s clean session skips that store.',
    );
  const figures = (c: ReturnType<typeof compare>) => ({
    ingest_readings_per_s: Math.round(c.ingestRate),
    node_red_readings_per_s: Math.round(c.nodeRedRate),
    ratio: round(c.ratio, 2),
    pair_ratios: c.pairRatios,
    ingest_cpu_ms_per_1000: round(c.ingestCpu, 1),
    node_red_cpu_ms_per_1000: round(c.nodeRedCpu, 1),
    node_red_cpu_per_reading_vs_ingest: round(c.cpuRatio, 2),
  });
  return {
    targets: [atLeast('ingest_vs_node_red_ratio', round(main.ratio, 2), 3, '×')],
    raw: {
      ...figures(main),
      offered_readings_per_s: plan.rate,
      versions,
      rounds: rounds.map((r) => ({ ...r, rate: Math.round(r.rate) })),
    },
    notes,
  };
}
