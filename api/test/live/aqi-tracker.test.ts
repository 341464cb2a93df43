/**
 * Expected values are worked by hand from Decision 1459/QĐ-TCMT: NowCast with w = max(c_min / c_max, 1/2) over the
 * hours present, PM2.5 band 25–50 → 50–100, so its sub-index there is 2 × (NowCast − 25) + 50.
 */
import { describe, expect, it } from 'vitest';
import { AqiTracker } from '../../src/live/aqi-tracker.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** 08:00 in Da Nang (UTC+7). */
const H0 = Date.UTC(2025, 0, 15, 1);

describe('AqiTracker', () => {
  it("averages each clock hour's readings, the partial current hour included", () => {
    const tracker = new AqiTracker();
    tracker.add('dn-air-1', H0 - HOUR + 5 * MINUTE, { pm25: 10 });
    tracker.add('dn-air-1', H0 - HOUR + 50 * MINUTE, { pm25: 30 });
    tracker.add('dn-air-1', H0 + 1 * MINUTE, { pm25: 30, no2: 150 });
    tracker.add('dn-air-1', H0 + 10 * MINUTE, { pm25: 40, no2: 250 });
    tracker.add('dn-air-1', H0 + 20 * MINUTE, { pm25: 50 });
    // Hour means: PM2.5 [40, 20], NO2 200 now. w* = 20/40 = 1/2 → w = 1/2: (40 + 1/2·20) / 1.5 = 33.333
    // → 2 × 8.333 + 50 = 66.67 → 67; NO2 200 → 100 exactly (breakpoint), so NO2 dominates
    expect(tracker.current('dn-air-1', H0 + 25 * MINUTE)).toEqual({ aqi: 100, category: 2, pollutant: 'no2', subIndices: { pm25: 67, no2: 100 } });
  });

  it('files late readings in their own hour', () => {
    const tracker = new AqiTracker();
    tracker.add('dn-air-1', H0 + 20 * MINUTE, { pm25: 50 });
    tracker.add('dn-air-1', H0 - HOUR + 50 * MINUTE, { pm25: 30 });
    tracker.add('dn-air-1', H0 + 1 * MINUTE, { pm25: 30 });
    tracker.add('dn-air-1', H0 - HOUR + 5 * MINUTE, { pm25: 10 });
    tracker.add('dn-air-1', H0 + 10 * MINUTE, { pm25: 40 });
    // Same hour means as above, PM2.5 [40, 20] → 67
    expect(tracker.current('dn-air-1', H0 + 25 * MINUTE)).toEqual({ aqi: 67, category: 2, pollutant: 'pm25', subIndices: { pm25: 67 } });
  });

  it('keeps the 12 hours behind the newest and forgets older ones', () => {
    const tracker = new AqiTracker();
    tracker.add('a', H0 - 11 * HOUR, { pm25: 10 });
    tracker.add('a', H0 - HOUR, { pm25: 30 });
    tracker.add('a', H0, { pm25: 40 });
    // c_1 = 40, c_2 = 30, c_12 = 10: w* = 10/40 → w = 1/2; (40 + 15 + 10·2^−11) / (1.5 + 2^−11) = 36.658 → 73.32 → 73
    expect(tracker.current('a', H0 + 30 * MINUTE)?.aqi).toBe(73);

    // Without the 10: w* = 30/40 = 0.75; (40 + 0.75·30) / 1.75 = 35.714 → 71.43 → 71
    tracker.add('a', H0 + HOUR, { pm25: 40 });
    expect(tracker.current('a', H0 + 30 * MINUTE)?.aqi).toBe(71);
    tracker.add('a', H0 - 11 * HOUR, { pm25: 10 });
    expect(tracker.current('a', H0 + 30 * MINUTE)?.aqi).toBe(71);

    const late = new AqiTracker();
    late.add('b', H0, { pm25: 40 });
    late.add('b', H0 - HOUR, { pm25: 30 });
    late.add('b', H0 - 12 * HOUR, { pm25: 10 });
    expect(late.current('b', H0 + 30 * MINUTE)?.aqi).toBe(71);
  });

  it('treats an hour without readings as missing', () => {
    const tracker = new AqiTracker();
    tracker.add('dn-air-1', H0 - 2 * HOUR, { pm25: 20 });
    tracker.add('dn-air-1', H0, { pm25: 40 });
    // [40, –, 20]: w = 1/2; (40 + 1/4·20) / 1.25 = 36 → 2 × 11 + 50 = 72
    expect(tracker.current('dn-air-1', H0 + MINUTE)?.aqi).toBe(72);
    // An hour later, nothing yet: [–, 40, –, 20] has 1 of the 3 latest hours
    expect(tracker.current('dn-air-1', H0 + HOUR + MINUTE)).toBeUndefined();
  });

  it('restores hourly means, weighting a seeded mean by its reading count', () => {
    const tracker = new AqiTracker();
    tracker.seed('dn-air-1', H0 - HOUR + 17 * MINUTE, { pm25: 45 });
    tracker.seed('dn-air-1', H0, { pm25: 40 }, { pm25: 3 });
    tracker.add('dn-air-1', H0 + 40 * MINUTE, { pm25: 60 });
    // Current hour (3·40 + 60) / 4 = 45, the hour before 45: NowCast 45 → 2 × 20 + 50 = 90
    expect(tracker.current('dn-air-1', H0 + 45 * MINUTE)).toEqual({ aqi: 90, category: 2, pollutant: 'pm25', subIndices: { pm25: 90 } });
  });

  it('ignores values that are not concentrations', () => {
    const tracker = new AqiTracker();
    tracker.add('dn-air-1', H0 - HOUR, { pm25: 40 });
    tracker.add('dn-air-1', H0, { pm25: -5 });
    tracker.add('dn-air-1', H0, { pm25: Number.NaN });
    tracker.add('dn-air-1', H0, { pm25: 40 });
    // [40, 40] → 40 → 2 × 15 + 50 = 80
    expect(tracker.current('dn-air-1', H0 + MINUTE)?.aqi).toBe(80);
  });

  it('keeps stations apart and forgets a removed one', () => {
    const tracker = new AqiTracker();
    for (const [station, pm25] of [
      ['a', 40],
      ['b', 20],
    ] as const) {
      tracker.add(station, H0 - HOUR, { pm25 });
      tracker.add(station, H0, { pm25 });
    }
    // a: 40 → 80; b: 20 → 2 × 20 = 40
    expect(tracker.current('a', H0)?.aqi).toBe(80);
    expect(tracker.current('b', H0)?.aqi).toBe(40);
    tracker.remove('a');
    expect(tracker.current('a', H0)).toBeUndefined();
    expect(tracker.current('b', H0)?.aqi).toBe(40);
    expect(tracker.current('unknown', H0)).toBeUndefined();
  });
});
