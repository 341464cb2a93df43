import { describe, expect, it } from 'vitest';
import { ClockReference } from '../src/clock-reference.js';

const LIMIT = 15 * 60_000;
const T = 1_750_000_000_000;

describe('the clock reference', () => {
  it('has nothing to compare with before any message carried sentAt', () => {
    expect(new ClockReference(LIMIT).earliestSentAt(T)).toBeUndefined();
  });

  it('judges against the freshest lag of the last seconds, not the slow one', () => {
    const clock = new ClockReference(LIMIT);
    clock.arrived(T);
    clock.observe(T, T - 3 * 3_600_000);
    clock.observe(T + 100, T + 50);
    expect(clock.earliestSentAt(T + 200)).toBe(T + 200 - 50 - LIMIT);
  });

  it('follows a backlog: when every message lags alike, the lag is the pipeline’s', () => {
    const clock = new ClockReference(LIMIT);
    clock.arrived(T);
    clock.observe(T, T - 2 * 3_600_000);
    expect(clock.earliestSentAt(T)).toBe(T - 2 * 3_600_000 - LIMIT);
  });

  it('forgets lags older than its window', () => {
    const clock = new ClockReference(LIMIT);
    clock.arrived(T);
    clock.observe(T, T);
    expect(clock.earliestSentAt(T + 11_000)).toBeUndefined();
  });

  it('after a silence longer than the limit, judges nothing sent since it began behind until the backlog had time to drain', () => {
    const gapStart = T - 3_600_000;
    const clock = new ClockReference(LIMIT, gapStart);
    clock.arrived(T);
    clock.observe(T, T);
    expect(clock.earliestSentAt(T)).toBe(gapStart - LIMIT);
    const drained = T + 3_600_000 + 60_000;
    for (let at = T; at < drained; at += 60_000) {
      clock.arrived(at);
      clock.observe(at, at);
      expect(clock.earliestSentAt(at)).toBe(gapStart - LIMIT);
    }
    clock.arrived(drained);
    clock.observe(drained, drained);
    expect(clock.earliestSentAt(drained)).toBe(drained - LIMIT);
  });

  it('treats a short silence as no gap', () => {
    const clock = new ClockReference(LIMIT, T - 60_000);
    clock.arrived(T);
    clock.observe(T, T);
    expect(clock.earliestSentAt(T)).toBe(T - LIMIT);
  });
});
