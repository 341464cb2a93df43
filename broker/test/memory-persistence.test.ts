import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { AedesPacket } from 'aedes-packet';
import type { Client } from 'aedes';
import { IndexedMemoryPersistence, OutgoingQueue } from '../src/memory-persistence.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

const publish = (counter: number) => ({ cmd: 'publish', topic: `devices/d${counter}/telemetry`, payload: Buffer.from('{}'), qos: 1, retain: false, dup: false, brokerId: 'b1', brokerCounter: counter }) as unknown as AedesPacket;

describe('the broker memory persistence', () => {
  it("passes aedes-persistence's own conformance suite", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--test', 'broker/test/fixtures/persistence-abstract-suite.ts'], { cwd: root, timeout: 60_000 });
    expect(stdout).toMatch(/^# fail 0$/m);
    expect(Number(/^# pass (\d+)$/m.exec(stdout)?.[1])).toBeGreaterThanOrEqual(50);
  });

  it('keeps a queue of 100,000 unacknowledged messages in order through sends and acknowledgements out of order', () => {
    const queue = new OutgoingQueue();
    const total = 100_000;
    const idOf = (counter: number) => ((counter - 1) % 65_535) + 1;
    for (let counter = 1; counter <= total; counter++) queue.enqueue(publish(counter));
    // Sent with wrapping packet identifiers, as a session holding more than 65,535 in flight is.
    for (let counter = 1; counter <= total; counter++) queue.update({ ...publish(counter), messageId: idOf(counter) } as AedesPacket);
    // Out of order: every odd one of the first 60,000 is acknowledged first.
    for (let counter = 1; counter <= 60_000; counter += 2) expect(queue.clear(idOf(counter))?.packet.brokerCounter).toBe(counter);
    const left = queue.snapshot().map((packet) => packet.brokerCounter);
    expect(left).toHaveLength(total - 30_000);
    expect(left.slice(0, 3)).toEqual([2, 4, 6]);
    expect(left.every((counter, index) => index === 0 || counter > (left[index - 1] as number))).toBe(true);
    // A shared identifier is the oldest holder's: 65,537 was sent as 2, after 2 itself.
    expect(queue.clear(2)?.packet.brokerCounter).toBe(2);
    expect(queue.clear(2)?.packet.brokerCounter).toBe(65_537);
    expect(queue.clear(2)).toBeUndefined();
  });

  it('keeps the messages a consumer leaves behind in order while it acknowledges 100,000 after them in order', () => {
    const queue = new OutgoingQueue();
    const wrong: number[] = [];
    const send = (counter: number, id: number) => {
      queue.enqueue(publish(counter));
      if (!queue.sent('b1', counter, id)) wrong.push(counter);
    };
    // The consumer keeps counters 1 and 30,000 unacknowledged (identifiers 1 and 2); the others, sent with 3 to 65,535
    // in turn, it acknowledges as they come, a few behind.
    send(1, 1);
    const inFlight: [number, number][] = [];
    for (let counter = 2, id = 3; counter <= 100_000; counter++) {
      if (counter === 30_000) {
        send(counter, 2);
        continue;
      }
      send(counter, id);
      inFlight.push([counter, id]);
      id = id === 65_535 ? 3 : id + 1;
      if (inFlight.length > 8) {
        const [oldest, oldestId] = inFlight.shift() as [number, number];
        if (queue.clear(oldestId)?.packet.brokerCounter !== oldest) wrong.push(oldest);
      }
    }
    expect(wrong).toEqual([]);
    expect(queue.snapshot().map((packet) => packet.brokerCounter)).toEqual([1, 30_000, ...inFlight.map(([counter]) => counter)]);
    expect(queue.clear(1)?.packet.brokerCounter).toBe(1);
    for (const [counter, id] of inFlight) expect(queue.clear(id)?.packet.brokerCounter).toBe(counter);
    const place = [...queue.placed()][0]?.[0] as number;
    expect(queue.get(place)?.brokerCounter).toBe(30_000);
    queue.enqueue(publish(100_001));
    expect(queue.snapshot().map((packet) => packet.brokerCounter)).toEqual([30_000, 100_001]);
    expect(queue.clear(2)?.packet.brokerCounter).toBe(30_000);
    expect(queue.size).toBe(1);
  });

  it('clears the right messages when a consumer acknowledges batch by batch, the batches out of order, across identifier wraps', () => {
    const queue = new OutgoingQueue();
    const idOf = (counter: number) => ((counter - 1) % 65_535) + 1;
    const batch = 1000;
    let sent = 0;
    const wrong: number[] = [];
    // Ten batches in flight at a time; each pair of batches is acknowledged second first, as two writers may finish.
    for (let first = 1; first <= 200_000; first += 2 * batch) {
      for (; sent < first + 12 * batch - 1; sent++) {
        queue.enqueue(publish(sent + 1));
        if (!queue.sent('b1', sent + 1, idOf(sent + 1))) wrong.push(sent + 1);
      }
      for (const start of [first + batch, first]) {
        for (let counter = start; counter < start + batch; counter++) if (queue.clear(idOf(counter))?.packet.brokerCounter !== counter) wrong.push(counter);
      }
    }
    expect(wrong).toEqual([]);
    expect(queue.snapshot().map((packet) => packet.brokerCounter)).toEqual(Array.from({ length: 10 * batch }, (_, i) => 200_001 + i));
  });

  it('records sends and acknowledgements out of order, then in order again, against the right messages', () => {
    const queue = new OutgoingQueue();
    for (let counter = 1; counter <= 5000; counter++) queue.enqueue(publish(counter));
    // Sent backwards (as a redelivery may be), and the newest half acknowledged first.
    for (let counter = 5000; counter >= 1; counter--) expect(queue.sent('b1', counter, 10_000 - counter)).toBe(true);
    for (let counter = 5000; counter >= 2501; counter--) expect(queue.clear(10_000 - counter)?.packet.brokerCounter).toBe(counter);
    expect(queue.sent('b1', 4000, 1)).toBe(false);
    // Then in order, for longer than the queue is long: each new message is sent, and the oldest acknowledged.
    for (let k = 1; k <= 7000; k++) {
      queue.enqueue(publish(5000 + k));
      expect(queue.sent('b1', 5000 + k, 20_000 + k)).toBe(true);
      const [oldest, oldestId] = k <= 2500 ? [k, 10_000 - k] : [5000 + k - 2500, 20_000 + k - 2500];
      expect(queue.clear(oldestId)?.packet.brokerCounter).toBe(oldest);
    }
    expect(queue.snapshot().map((packet) => packet.brokerCounter)).toEqual(Array.from({ length: 2500 }, (_, i) => 9501 + i));
  });

  it("answers a topic's persistent subscribers as they are after every subscription change", async () => {
    const store = new IndexedMemoryPersistence();
    await store.setup({ id: 'b1' });
    const ingest = { id: 'service:ingest' } as Client;
    const archive = { id: 'service:archive' } as Client;
    const subscribers = async () => (await store.subscriptionsByTopic('devices/d1/telemetry')).map((sub) => sub.clientId).sort();
    await store.addSubscriptions(ingest, [{ topic: 'devices/+/telemetry', qos: 1 }]);
    expect(await subscribers()).toEqual(['service:ingest']);
    expect(await subscribers()).toEqual(['service:ingest']);
    await store.addSubscriptions(archive, [{ topic: 'devices/d1/#', qos: 1 }]);
    expect(await subscribers()).toEqual(['service:archive', 'service:ingest']);
    await store.removeSubscriptions(ingest, ['devices/+/telemetry']);
    expect(await subscribers()).toEqual(['service:archive']);
    await store.cleanSubscriptions(archive);
    expect(await subscribers()).toEqual([]);
    await store.destroy();
  });

  it('swaps a PUBLISH for its PUBREL and refuses an update for a packet it never queued', () => {
    const queue = new OutgoingQueue();
    queue.enqueue(publish(1));
    queue.update({ ...publish(1), messageId: 7 } as AedesPacket);
    queue.update({ cmd: 'pubrel', messageId: 7 } as unknown as AedesPacket);
    expect(queue.snapshot()).toEqual([{ cmd: 'pubrel', messageId: 7 }]);
    expect(() => queue.update({ ...publish(2), messageId: 8 } as AedesPacket)).toThrow('no such packet');
    expect(queue.clear(7)?.packet).toEqual({ cmd: 'pubrel', messageId: 7 });
    expect(queue.size).toBe(0);
  });
});
