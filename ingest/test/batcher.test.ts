import { describe, expect, it } from 'vitest';
import { createLogger, waitFor } from '@city/platform';
import { Batcher } from '../src/batcher.js';
import { linesOf } from '../src/line-body.js';

const logger = createLogger('test', 'silent');

describe('Batcher', () => {
  it('seals a batch at maxLines and acknowledges its messages only after persist resolves', async () => {
    const persisted: string[][] = [];
    const oldest: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batcher = new Batcher({
      maxLines: 3,
      maxDelayMs: 60_000,
      maxInFlight: 1,
      logger,
      persist: async (body, oldestTs) => {
        persisted.push([...linesOf(body)]);
        oldest.push(oldestTs);
        await gate;
      },
    });
    const acked: number[] = [];
    batcher.add(['a', 'b'], { ack: () => acked.push(1) }, 20);
    batcher.add(['c'], { ack: () => acked.push(2) }, 10);
    await waitFor('the first batch to be handed over', () => persisted.length === 1);
    expect(persisted[0]).toEqual(['a', 'b', 'c']);
    expect(oldest).toEqual([10]);
    expect(acked).toEqual([]);
    release();
    await batcher.flush();
    expect(acked).toEqual([1, 2]);
  });

  it('seals a partial batch after maxDelayMs', async () => {
    const persisted: string[][] = [];
    const batcher = new Batcher({ maxLines: 100, maxDelayMs: 20, maxInFlight: 1, logger, persist: async (body) => void persisted.push([...linesOf(body)]) });
    let acked = false;
    batcher.add(['only'], { ack: () => (acked = true) }, 1);
    await waitFor('the timer to seal the batch', () => acked, 2000);
    expect(persisted).toEqual([['only']]);
  });

  it('retries a batch that cannot be persisted, holding its acknowledgements until it can', async () => {
    let failures = 2;
    const batcher = new Batcher({
      maxLines: 1,
      maxDelayMs: 1000,
      maxInFlight: 1,
      logger,
      retryMinMs: 5,
      persist: async () => {
        if (failures-- > 0) throw new Error('nowhere to write');
      },
    });
    let acked = 0;
    batcher.add(['x'], { ack: () => acked++ }, 1);
    await batcher.flush();
    expect(failures).toBe(-1);
    expect(acked).toBe(1);
  });

  it('acknowledges a message whose lines are spread over two batches once, after both', async () => {
    const batcher = new Batcher({ maxLines: 2, maxDelayMs: 10, maxInFlight: 2, logger, persist: async () => undefined });
    let acked = 0;
    batcher.add(['a', 'b', 'c'], { ack: () => acked++ }, 1);
    await batcher.flush();
    expect(acked).toBe(1);
  });

  it('forgets the batches not durable yet when told, stops retrying them and acknowledges none of them', async () => {
    const attempts: string[] = [];
    let durable = false;
    const batcher = new Batcher({
      maxLines: 1,
      maxDelayMs: 1000,
      maxInFlight: 1,
      logger,
      retryMinMs: 5,
      retryMaxMs: 5,
      persist: async (body) => {
        attempts.push(...linesOf(body));
        if (!durable) throw new Error('the spool is full');
      },
    });
    const acked: string[] = [];
    for (const line of ['a', 'b', 'c']) batcher.add([line], { ack: () => acked.push(line) }, 1);
    await waitFor('the first batch to be retried', () => attempts.length >= 3);

    expect(batcher.discardPending()).toBe(3);
    await batcher.flush();
    durable = true;
    batcher.add(['d'], { ack: () => acked.push('d') }, 1);
    await batcher.flush();

    expect(new Set(attempts)).toEqual(new Set(['a', 'd']));
    expect(acked).toEqual(['d']);
  });
});
