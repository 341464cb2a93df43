import { describe, expect, it } from 'vitest';
import mqemitter from 'mqemitter';
import { createMessageQueue, Deque } from '../src/message-queue.js';

const BACKLOG = 50_000;

/** Fills a queue whose listener holds every completion, then lets them all go at once, as a socket that drains does. */
function drainBacklog(queue: mqemitter.MQEmitter): { delivered: number[]; release: () => void } {
  const delivered: number[] = [];
  const held: (() => void)[] = [];
  let holding = true;
  queue.on('devices/+/status', (message, done) => {
    delivered.push(message.seq as number);
    if (holding) held.push(done);
    else done();
  });
  for (let seq = 0; seq < BACKLOG; seq++) queue.emit({ topic: `devices/d${seq}/status`, seq });
  return {
    delivered,
    release() {
      holding = false;
      for (const done of held.splice(0)) done();
    },
  };
}

describe('the broker message queue', () => {
  it('is the failure it exists for: plain mqemitter overflows the stack draining a large backlog', () => {
    const { release } = drainBacklog(mqemitter({ concurrency: 100 }));
    expect(release).toThrow(RangeError);
  });

  it('drains the same backlog completely, in order, on fresh stacks', async () => {
    const queue = createMessageQueue(100);
    const { delivered, release } = drainBacklog(queue);
    expect(delivered).toHaveLength(100);
    release();
    await expect.poll(() => delivered.length, { timeout: 10_000 }).toBe(BACKLOG);
    expect(delivered.every((seq, index) => seq === index)).toBe(true);
  });

  it('keeps its concurrency bound while deferring', async () => {
    const queue = createMessageQueue(10);
    const { delivered, release } = drainBacklog(queue);
    expect(delivered).toHaveLength(10);
    release();
    // A publish made while the backlog drains waits its turn behind it.
    queue.emit({ topic: 'devices/late/status', seq: BACKLOG });
    await expect.poll(() => delivered.length, { timeout: 10_000 }).toBe(BACKLOG + 1);
    expect(delivered.at(-1)).toBe(BACKLOG);
  });
});

describe('the message queue ring buffer', () => {
  it('behaves as an array used from both ends, through growth and wrap-around', () => {
    const deque = new Deque<number>();
    const model: number[] = [];
    let next = 0;
    // A fixed pseudo-random walk of pushes, shifts and unshifts, checked against a plain array.
    let seed = 7;
    for (let step = 0; step < 20_000; step++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const op = seed % 5;
      if (op < 2) expect(deque.push(next)).toBe(model.push(next++));
      else if (op < 4) expect(deque.shift()).toBe(model.shift());
      else expect(deque.unshift(next)).toBe(model.unshift(next++));
      expect(deque.length).toBe(model.length);
    }
    while (model.length) expect(deque.shift()).toBe(model.shift());
    expect(deque.shift()).toBeUndefined();
  });
});
