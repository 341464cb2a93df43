import { describe, expect, it } from 'vitest';
import { historyWindows } from '../src/backfill.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = Date.UTC(2025, 10, 19, 3);

describe('the first start\'s history', () => {
  it('stops where a fleet replaying the last day at --speed 60 begins, so that day is written once', () => {
    const replayFrom = now - DAY;
    const { raw, hourly } = historyWindows(7, 6, now, replayFrom);
    expect(raw).toEqual({ fromMs: now - 7 * DAY, toMs: replayFrom });
    expect(hourly).toEqual({ fromMs: now - 7 * DAY - 180 * DAY, toMs: now - 7 * DAY });
  });

  it('runs up to a minute ago for a fleet at real time', () => {
    expect(historyWindows(7, 0, now).raw).toEqual({ fromMs: now - 7 * DAY, toMs: now - 60_000 });
  });

  it('writes no raw days when the replay starts before them, and hourly history only before the replay', () => {
    const { raw, hourly } = historyWindows(2, 1, now, now - 3 * DAY);
    expect(raw.toMs - raw.fromMs).toBe(0);
    expect(hourly.toMs).toBeLessThanOrEqual(now - 3 * DAY);
  });
});
