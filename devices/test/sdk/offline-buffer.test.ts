import { describe, it, expect } from 'vitest';
import { OfflineBuffer } from '../../src/sdk/offline-buffer.js';

const drain = <T>(buffer: OfflineBuffer<T>) => buffer.take(Number.MAX_SAFE_INTEGER);

describe('OfflineBuffer', () => {
  it('is a FIFO', () => {
    const buffer = new OfflineBuffer<number>(10);
    for (let i = 0; i < 5; i++) buffer.push(i);
    expect(buffer.length).toBe(5);
    expect(buffer.take(2)).toEqual([0, 1]);
    buffer.push(5);
    expect(drain(buffer)).toEqual([2, 3, 4, 5]);
    expect(buffer.length).toBe(0);
    expect(buffer.take(3)).toEqual([]);
  });

  it('drops the oldest when full and counts them', () => {
    const buffer = new OfflineBuffer<number>(3);
    for (let i = 0; i < 8; i++) buffer.push(i);
    expect(buffer.length).toBe(3);
    expect(buffer.dropped).toBe(5);
    expect(drain(buffer)).toEqual([5, 6, 7]);
  });

  it('puts items back at the head in their order, dropping the oldest on overflow', () => {
    const buffer = new OfflineBuffer<number>(5);
    for (let i = 0; i < 6; i++) buffer.push(i);
    const taken = buffer.take(2);
    buffer.push(6);
    buffer.unshift(taken);
    expect(buffer.dropped).toBe(2);
    expect(drain(buffer)).toEqual([2, 3, 4, 5, 6]);
  });

  it('cuts batches by count and by weight, but always takes at least one item', () => {
    const buffer = new OfflineBuffer<string>(100);
    for (const word of ['aaaa', 'bb', 'cccccc', 'd', 'eeeeeeeeeeee', 'f']) buffer.push(word);
    const weigh = (word: string) => word.length;
    expect(buffer.take(10, 7, weigh)).toEqual(['aaaa', 'bb']);
    expect(buffer.take(10, 7, weigh)).toEqual(['cccccc', 'd']);
    expect(buffer.take(10, 7, weigh)).toEqual(['eeeeeeeeeeee']);
    expect(buffer.take(0, 7, weigh)).toEqual([]);
    expect(buffer.take(10, 7, weigh)).toEqual(['f']);
  });

  it('stays correct across many pushes and takes', () => {
    const buffer = new OfflineBuffer<number>(20_000);
    let next = 0;
    const taken: number[] = [];
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 300; i++) buffer.push(next++);
      taken.push(...buffer.take(250));
    }
    taken.push(...drain(buffer));
    expect(buffer.dropped).toBe(0);
    expect(taken).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new OfflineBuffer(0)).toThrow(RangeError);
    expect(() => new OfflineBuffer(1.5)).toThrow(RangeError);
  });
});
