import { execFile, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from 'aedes';
import type { AedesPacket } from 'aedes-packet';
import { tempDir } from '@city/platform/testing';
import { DurablePersistence, STORE_FILE } from '../src/durable-persistence.js';
import { setRecord } from '../src/write-ahead-log.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ingest = { id: 'service:ingest' } as Client;
const other = { id: 'service:other' } as Client;
const publish = (n: number, extra: Record<string, unknown> = {}) =>
  ({ cmd: 'publish', topic: `devices/d${n}/telemetry`, payload: Buffer.from(`{"n":${n}}`), qos: 1, retain: false, dup: false, brokerId: 'b1', brokerCounter: n, ...extra }) as unknown as AedesPacket;

const dirs: ReturnType<typeof tempDir>[] = [];
const newDir = () => {
  const dir = tempDir('city-durable-');
  dirs.push(dir);
  return dir.path;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

async function open(dir: string, brokerId: string, compactMinBytes?: number): Promise<DurablePersistence> {
  const store = await DurablePersistence.open(dir, {}, compactMinBytes);
  await store.setup({ id: brokerId });
  return store;
}

async function collect<T>(stream: AsyncIterable<unknown>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item as T);
  return items;
}

/** The records of a log file by operation, from its framing ([length u32][crc u32][op u8]…). */
function recordOps(file: Buffer): { set: number; delete: number; deleteRange: number } {
  const ops = { set: 0, delete: 0, deleteRange: 0 };
  for (let at = 0; at < file.length; at += 8 + file.readUInt32LE(at)) {
    const op = file[at + 8];
    if (op === 1) ops.set++;
    else if (op === 2) ops.delete++;
    else if (op === 3) ops.deleteRange++;
    else throw new Error(`unknown record op ${op}`);
  }
  return ops;
}

const counters = async (store: DurablePersistence, client = ingest) => (await collect<{ brokerCounter: number }>(store.outgoingStream(client))).map((packet) => packet.brokerCounter);

describe('the broker durable store', () => {
  it("passes aedes-persistence's own conformance suite", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--test', 'broker/test/fixtures/durable-persistence-abstract-suite.ts'], { cwd: root, timeout: 60_000 });
    expect(stdout).toMatch(/^# fail 0$/m);
    expect(Number(/^# pass (\d+)$/m.exec(stdout)?.[1])).toBeGreaterThanOrEqual(50);
  });

  it('comes back after a restart with the queues, subscriptions, retained messages, wills and incoming QoS 2 messages', async () => {
    const dir = newDir();
    const first = await open(dir, 'b1');
    for (let n = 1; n <= 4; n++) await first.outgoingEnqueueCombi([{ clientId: ingest.id }], publish(n));
    await first.outgoingUpdate(ingest, publish(2, { messageId: 42 }));
    await first.outgoingClearMessageId(ingest, publish(2, { messageId: 42 }));
    await first.outgoingUpdate(ingest, publish(3, { messageId: 43 }));
    await first.addSubscriptions(ingest, [{ topic: 'devices/+/telemetry', qos: 1 }, { topic: 'devices/+/status', qos: 1 }] as never);
    await first.removeSubscriptions(ingest, ['devices/+/status']);
    await first.storeRetained({ ...publish(9), topic: 'devices/d9/status', retain: true } as never);
    await first.storeRetained({ ...publish(8), topic: 'devices/d8/status', retain: true } as never);
    await first.storeRetained({ ...publish(8), topic: 'devices/d8/status', retain: true, payload: Buffer.alloc(0) } as never);
    await first.putWill({ id: 'dn-1' } as Client, { ...publish(5), topic: 'devices/dn-1/status' } as never);
    await first.incomingStorePacket({ id: 'dn-2' } as Client, publish(6, { qos: 2, messageId: 6 }));
    // QoS 2 to another session: one PUBLISH sent, one already swapped for its PUBREL.
    await first.outgoingEnqueueCombi([{ clientId: other.id }], publish(10, { qos: 2 }));
    await first.outgoingEnqueueCombi([{ clientId: other.id }], publish(11, { qos: 2 }));
    await first.outgoingUpdate(other, publish(10, { qos: 2, messageId: 50 }));
    await first.outgoingUpdate(other, publish(11, { qos: 2, messageId: 51 }));
    await first.outgoingUpdate(other, { cmd: 'pubrel', messageId: 51 } as unknown as AedesPacket);
    await first.destroy();

    const second = await open(dir, 'b2');
    expect(await counters(second)).toEqual([1, 3, 4]);
    // A QoS 1 message goes again under a new identifier.
    expect((await collect<{ messageId?: number }>(second.outgoingStream(ingest)))[1]?.messageId).toBeUndefined();
    expect(await second.subscriptionsByClient(ingest)).toEqual([{ topic: 'devices/+/telemetry', qos: 1 }]);
    expect(await second.subscriptionsByTopic('devices/d1/telemetry')).toMatchObject([{ clientId: ingest.id, qos: 1 }]);
    const retained = await collect<{ topic: string; payload: Buffer }>(second.createRetainedStream('#'));
    expect(retained.map((packet) => [packet.topic, packet.payload.toString()])).toEqual([['devices/d9/status', '{"n":9}']]);
    // The will is the gone broker's, so aedes publishes it.
    expect(await collect(second.streamWill({ b2: Date.now() }))).toMatchObject([{ clientId: 'dn-1', brokerId: 'b1', topic: 'devices/dn-1/status' }]);
    expect(await collect(second.outgoingStream(other))).toMatchObject([{ cmd: 'publish', brokerCounter: 10, messageId: 50 }, { cmd: 'pubrel', messageId: 51 }]);
    expect(await second.incomingGetPacket({ id: 'dn-2' } as Client, publish(6, { messageId: 6 }))).toMatchObject({ messageId: 6, qos: 2 });
    // New messages queue after the restored ones, and the restored ones can be acknowledged.
    await second.outgoingEnqueueCombi([{ clientId: ingest.id }], publish(7));
    await second.outgoingUpdate(ingest, publish(3, { messageId: 44 }));
    await second.outgoingClearMessageId(ingest, publish(3, { messageId: 44 }));
    expect(await counters(second)).toEqual([1, 4, 7]);
    await second.destroy();
    const third = await open(dir, 'b3');
    expect(await counters(third)).toEqual([1, 4, 7]);
    await third.destroy();
  });

  it('gives back a queued message exactly as it was queued, whether plain or with MQTT 5 properties', async () => {
    const dir = newDir();
    const first = await open(dir, 'b1');
    const plain = publish(1, { topic: 'devices/cảm-biến/telemetry', retain: true, dup: true, payload: Buffer.from([0, 1, 255]) });
    const extended = publish(2, { properties: { contentType: 'application/json', correlationData: Buffer.from('c') } });
    await first.outgoingEnqueueCombi([{ clientId: ingest.id }], plain);
    await first.outgoingEnqueueCombi([{ clientId: ingest.id }], extended);
    await first.destroy();
    const second = await open(dir, 'b2');
    expect(await collect(second.outgoingStream(ingest))).toEqual([plain, extended]);
    await second.destroy();
  });

  it('keeps every record of a group far larger than its buffer, messages and a retained status mixed in one commit', async () => {
    const dir = newDir();
    const first = await open(dir, 'b1');
    const big = Buffer.alloc(700, 7);
    const queued: Promise<void>[] = [];
    // All in one turn, so one group: 3,000 messages of about 800 bytes, past the log's first buffer several times over.
    for (let n = 1; n <= 3000; n++) {
      queued.push(first.outgoingEnqueueCombi([{ clientId: ingest.id }], publish(n, { payload: big })));
      if (n === 1500) queued.push(first.storeRetained(publish(0, { topic: 'devices/d0/status', retain: true, payload: Buffer.from('online') })));
    }
    await Promise.all(queued);
    await first.destroy();

    const second = await open(dir, 'b2');
    const restored = await collect<{ brokerCounter: number; payload: Buffer }>(second.outgoingStream(ingest));
    expect(restored.map((packet) => packet.brokerCounter)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect(restored.every((packet) => packet.payload.equals(big))).toBe(true);
    const retained = await collect<{ payload: Buffer }>(second.createRetainedStream('devices/+/status'));
    expect(retained.map((packet) => packet.payload.toString())).toEqual(['online']);
    await second.destroy();
  });

  it('drops a torn last record and keeps every whole one before it', async () => {
    const dir = newDir();
    const first = await open(dir, 'b1');
    for (let n = 1; n <= 3; n++) await first.outgoingEnqueueCombi([{ clientId: ingest.id }], publish(n));
    await first.destroy();
    const whole = setRecord('o\u0000service:ingest\u00009', Buffer.from('a record the crash cut short'));
    appendFileSync(join(dir, STORE_FILE), whole.subarray(0, whole.length - 5));

    const second = await open(dir, 'b2');
    expect(await counters(second)).toEqual([1, 2, 3]);
    await second.outgoingEnqueueCombi([{ clientId: ingest.id }], publish(4));
    await second.destroy();
    const third = await open(dir, 'b3');
    expect(await counters(third)).toEqual([1, 2, 3, 4]);
    await third.destroy();
  });

  it('logs a run of acknowledgements as one record, and a restart drops every message in it', async () => {
    const dir = newDir();
    const first = await open(dir, 'b1');
    for (let n = 1; n <= 10; n++) await first.outgoingEnqueueCombi([{ clientId: ingest.id }], publish(n));
    const acknowledge = async (n: number) => {
      await first.outgoingUpdate(ingest, publish(n, { messageId: 100 + n }));
      await first.outgoingClearMessageId(ingest, publish(n, { messageId: 100 + n }));
    };
    // Two runs (1–4 and 6–8) and a lone one (10), as a consumer acknowledging in order leaves them.
    for (const n of [1, 2, 3, 4, 6, 7, 8, 10]) await acknowledge(n);
    await first.destroy();
    expect(recordOps(readFileSync(join(dir, STORE_FILE)))).toEqual({ set: 10, delete: 1, deleteRange: 2 });

    const second = await open(dir, 'b2');
    expect(await counters(second)).toEqual([5, 9]);
    await second.destroy();
  });

  it('refuses a second broker on the same data directory, and takes over the lock a killed one left', async () => {
    const dir = newDir();
    const first = await open(dir, 'b1');
    await expect(DurablePersistence.open(dir)).rejects.toThrow(/in use by process/);
    await first.destroy();
    const second = await open(dir, 'b2');
    await second.destroy();
    const gone = spawnSync(process.execPath, ['-e', '']).pid as number;
    writeFileSync(join(dir, `${STORE_FILE}.lock`), String(gone));
    const third = await open(dir, 'b3');
    await third.destroy();
  });

  it('loses nothing it answered for when killed with SIGKILL mid-stream', async () => {
    const dir = newDir();
    const writer = spawn(process.execPath, ['--import', 'tsx', 'broker/test/fixtures/durable-writer.ts', dir], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const acknowledged: number[] = [];
    let partial = '';
    await new Promise<void>((resolve, reject) => {
      writer.once('error', reject);
      writer.once('exit', () => resolve());
      writer.stdout.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() as string;
        for (const line of lines) acknowledged.push(Number(line));
        if (acknowledged.length >= 20_000) writer.kill('SIGKILL');
      });
    });
    expect(acknowledged.length).toBeGreaterThanOrEqual(20_000);

    const store = await open(dir, 'b2');
    const kept = new Set(await counters(store));
    expect(acknowledged.filter((n) => !kept.has(n))).toEqual([]);
    await store.destroy();
  }, 60_000);

  it('compacts a log that has grown far past what is live, keeping what is', async () => {
    const dir = newDir();
    const store = await open(dir, 'b1', 64 * 1024);
    let peak = 0;
    for (let from = 1; from <= 20_000; from += 100) {
      const batch = Array.from({ length: 100 }, (_, i) => from + i);
      await Promise.all(batch.map((n) => store.outgoingEnqueueCombi([{ clientId: ingest.id }], publish(n, { payload: Buffer.alloc(100, 120) }))));
      for (const n of batch) {
        await store.outgoingUpdate(ingest, publish(n, { messageId: (n % 60_000) + 1 }));
        // All but every thousandth is acknowledged.
        if (n % 1000 !== 0) await store.outgoingClearMessageId(ingest, publish(n, { messageId: (n % 60_000) + 1 }));
      }
      peak = Math.max(peak, statSync(join(dir, STORE_FILE)).size);
    }
    await store.destroy();
    // 20,000 messages of over 100 bytes each, some 7 MB of records, went through a log that never held much more than its threshold.
    expect(peak).toBeLessThan(512 * 1024);
    const reopened = await open(dir, 'b2');
    expect(await counters(reopened)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 1000));
    await reopened.destroy();
  }, 60_000);
});
