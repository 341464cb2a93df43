/**
 * Expected values are worked by hand from Decision 1459/QĐ-TCMT (Bảng 2 breakpoints, 2.2.1 formulas), the arithmetic
 * beside each. Sub-index: (I_hi − I_lo) / (BP_hi − BP_lo) × (C − BP_lo) + I_lo.
 */
import { describe, expect, it } from 'vitest';
import { aqiCategory, hourlyVnAqi, nowcast, subIndex, type HourlyMeans, type Pollutant } from '../../src/live/vn-aqi.js';

/** The Decision's worked NowCast series (2.3 a), 20:00 back to 09:00. */
const DECISION_PM25 = [20.6, 19.6, 22.4, 20.3, 16.5, 19.0, 16.5, 19.5, 23.5, 20.5, 24.7, 26.9];

const pm25Hours = (series: (number | undefined)[]): HourlyMeans[] => series.map((pm25) => ({ values: pm25 === undefined ? {} : { pm25 } }));

describe('subIndex', () => {
  it('gives each I level of Bảng 2 on its breakpoint', () => {
    const table: Record<Pollutant, number[]> = {
      o3: [0, 160, 200, 300, 400, 800, 1000, 1200],
      co: [0, 10000, 30000, 45000, 60000, 90000, 120000, 150000],
      so2: [0, 125, 350, 550, 800, 1600, 2100, 2630],
      no2: [0, 100, 200, 700, 1200, 2350, 3100, 3850],
      pm10: [0, 50, 150, 250, 350, 420, 500, 600],
      pm25: [0, 25, 50, 80, 150, 250, 350, 500],
    };
    for (const [pollutant, breakpoints] of Object.entries(table) as [Pollutant, number[]][]) {
      expect(breakpoints.map((concentration) => subIndex(pollutant, concentration))).toEqual([0, 50, 100, 150, 200, 300, 400, 500]);
    }
  });

  it('interpolates linearly inside a band', () => {
    // PM2.5 36.2: band 25–50 → 50–100: 50/25 × 11.2 + 50 = 72.4
    expect(subIndex('pm25', 36.2)).toBeCloseTo(72.4, 9);
    // PM2.5 25.1, just past a breakpoint: 50/25 × 0.1 + 50 = 50.2
    expect(subIndex('pm25', 25.1)).toBeCloseTo(50.2, 9);
    // PM10 200: band 150–250 → 100–150: 50/100 × 50 + 100 = 125
    expect(subIndex('pm10', 200)).toBe(125);
    // CO 20 000 µg/m³: band 10 000–30 000 → 50–100: 50/20 000 × 10 000 + 50 = 75
    expect(subIndex('co', 20_000)).toBe(75);
    // SO2 700: band 550–800 → 150–200: 50/250 × 150 + 150 = 180
    expect(subIndex('so2', 700)).toBeCloseTo(180, 9);
    // NO2 1775: band 1200–2350 → 200–300: 100/1150 × 575 + 200 = 250
    expect(subIndex('no2', 1775)).toBeCloseTo(250, 9);
    // O3 900 (1-hour column): band 800–1000 → 300–400: 100/200 × 100 + 300 = 350
    expect(subIndex('o3', 900)).toBe(350);
    // The Decision's own (2.3 b): O3 136.1 → 50/160 × 136.1 = 42.53125; NO2 118.7 → 50/100 × 18.7 + 50 = 59.35
    expect(subIndex('o3', 136.1)).toBeCloseTo(42.53125, 9);
    expect(subIndex('no2', 118.7)).toBeCloseTo(59.35, 9);
  });

  it('interpolates in the top band and stays at 500 at and above the last breakpoint ("≥" in Bảng 2)', () => {
    // PM2.5 425: band 350–500 → 400–500: 100/150 × 75 + 400 = 450
    expect(subIndex('pm25', 425)).toBeCloseTo(450, 9);
    expect(subIndex('pm25', 650)).toBe(500);
    expect(subIndex('pm10', 601)).toBe(500);
    // O3 above 1200: the 1-hour column runs to 500 and holds it; the 8-hour column's end at 400 µg/m³ is not used hourly
    expect(subIndex('o3', 1500)).toBe(500);
    expect(subIndex('co', 200_000)).toBe(500);
  });

  it('refuses what is not a concentration', () => {
    expect(() => subIndex('pm25', -1)).toThrow(RangeError);
    expect(() => subIndex('no2', Number.NaN)).toThrow(RangeError);
    expect(() => subIndex('co', Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('nowcast', () => {
  it("reproduces the Decision's worked example (20.3 µg/m³)", () => {
    // w* = 16.5 / 26.9 = 0.61338 > 1/2, so w = w*; Σ w^(i−1)·c_i = 52.2695, Σ w^(i−1) = 2.5792 → 20.2658.
    // The Decision rounds w to 0.61 and prints 20.3.
    const value = nowcast(DECISION_PM25);
    expect(value).toBeCloseTo(20.27, 2);
    expect(value).toBeCloseTo(20.3, 1);
  });

  it('weights by w = w* when the hours vary little', () => {
    // [30, 20, 24]: w* = 20/30 = 2/3; (30 + 2/3·20 + 4/9·24) / (1 + 2/3 + 4/9) = (30 + 40/3 + 32/3) / (19/9) = 54 · 9/19 = 25.5789
    expect(nowcast([30, 20, 24])).toBeCloseTo(25.5789, 4);
  });

  it('floors the weight at 1/2 when the hours vary a lot', () => {
    // [80, 40, 20, 10 × 9]: w* = 10/80 = 0.125 ≤ 1/2, so w = 1/2.
    // Σ (1/2)^(i−1)·c_i = 80 + 20 + 5 + 10·(2^−2 − 2^−11) = 107.4951171875; Σ (1/2)^(i−1) = 2 − 2^−11 = 1.99951171875
    // → 53.7607. (The Decision's shortcut Σ (1/2)^i·c_i gives 107.4951171875 / 2 = 53.7476: same AQI, 106.)
    expect(nowcast([80, 40, 20, 10, 10, 10, 10, 10, 10, 10, 10, 10])).toBeCloseTo(53.7607, 4);
  });

  it('gives a missing hour weight 0 and keeps the others at their own age', () => {
    // [40, –, 20, 20]: w* = 20/40 = 1/2 → w = 1/2; (1·40 + 1/4·20 + 1/8·20) / (1 + 1/4 + 1/8) = 47.5 / 1.375 = 34.5455
    expect(nowcast([40, undefined, 20, 20])).toBeCloseTo(34.5455, 4);
    // [–, 40, 20]: 2 of the 3 latest hours present; (1/2·40 + 1/4·20) / (1/2 + 1/4) = 25 / 0.75 = 33.3333
    expect(nowcast([undefined, 40, 20])).toBeCloseTo(33.3333, 4);
  });

  it('needs at least 2 of the 3 most recent hours', () => {
    expect(nowcast([undefined, undefined, 30, 30, 30, 30])).toBeUndefined();
    expect(nowcast([30, undefined, undefined, 30, 30, 30])).toBeUndefined();
    expect(nowcast([30])).toBeUndefined();
    expect(nowcast([])).toBeUndefined();
  });

  it('is the mean of a steady series, 0 for clean air, and looks back 12 hours only', () => {
    expect(nowcast([35, 35, 35])).toBe(35);
    expect(nowcast([0, 0, 0])).toBe(0);
    expect(nowcast([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 1000])).toBe(10);
  });

  it('refuses a mean that is not a concentration', () => {
    expect(() => nowcast([10, -3])).toThrow(RangeError);
  });
});

describe('hourlyVnAqi', () => {
  it("computes the Decision's worked hourly example; NO2 dominates", () => {
    // PM2.5 NowCast 20.2658 → 50/25 × 20.2658 = 40.53 → 41; O3 136.1 → 42.53 → 43; NO2 118.7 → 59.35 → 59.
    // The Decision prints AQI^h = 60, which its own formula does not give (its daily example rounds 65.4 to 65).
    const hours = pm25Hours(DECISION_PM25);
    hours[0] = { values: { pm25: 20.6, o3: 136.1, no2: 118.7 } };
    expect(hourlyVnAqi(hours)).toEqual({ aqi: 59, category: 2, pollutant: 'no2', subIndices: { pm25: 41, o3: 43, no2: 59 } });
  });

  it('lets PM2.5 dominate through its NowCast', () => {
    // PM2.5 NowCast 53.7607 (above) → band 50–80 → 100–150: 50/30 × 3.7607 + 100 = 106.27 → 106
    // NO2 100 → 50 (breakpoint); CO 5000 → 50/10 000 × 5000 = 25
    const hours = pm25Hours([80, 40, 20, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
    hours[0] = { values: { pm25: 80, no2: 100, co: 5000 } };
    expect(hourlyVnAqi(hours)).toEqual({ aqi: 106, category: 3, pollutant: 'pm25', subIndices: { pm25: 106, co: 25, no2: 50 } });
  });

  it('computes with PM10 alone, and a gas may then dominate', () => {
    // PM10 NowCast of [200, 200] = 200 → 125; SO2 700 → 180
    expect(hourlyVnAqi([{ values: { pm10: 200, so2: 700 } }, { values: { pm10: 200 } }])).toEqual({
      aqi: 180,
      category: 4,
      pollutant: 'so2',
      subIndices: { pm10: 125, so2: 180 },
    });
  });

  it('is undefined without a PM2.5 or PM10 NowCast, however high the gases', () => {
    expect(hourlyVnAqi([{ values: { no2: 900, o3: 500 } }, { values: { no2: 900 } }])).toBeUndefined();
    // PM2.5 only in c_1 and c_4: 1 of the 3 latest hours, the 2-of-3 rule fails
    expect(hourlyVnAqi([{ values: { pm25: 30, no2: 150 } }, { values: {} }, undefined, { values: { pm25: 30 } }])).toBeUndefined();
    expect(hourlyVnAqi([])).toBeUndefined();
  });

  it("takes the gases from the current hour's mean only", () => {
    // PM2.5 NowCast of [20, 20] = 20 → 40; the NO2 of the hour before does not count
    expect(hourlyVnAqi([{ values: { pm25: 20 } }, { values: { pm25: 20, no2: 1000 } }])).toEqual({
      aqi: 40,
      category: 1,
      pollutant: 'pm25',
      subIndices: { pm25: 40 },
    });
  });

  it('reaches 500, hazardous, above the table', () => {
    expect(hourlyVnAqi(pm25Hours([600, 600, 600]))).toEqual({ aqi: 500, category: 6, pollutant: 'pm25', subIndices: { pm25: 500 } });
    // O3 1300 ≥ 1200 → 500; PM2.5 10 → 20
    expect(hourlyVnAqi([{ values: { pm25: 10, o3: 1300 } }, { values: { pm25: 10 } }])).toEqual({
      aqi: 500,
      category: 6,
      pollutant: 'o3',
      subIndices: { pm25: 20, o3: 500 },
    });
  });

  it('rounds half up across the good/moderate boundary', () => {
    // PM2.5 25.2 → 50/25 × 0.2 + 50 = 50.4 → 50, good; 25.25 → 50.5 → 51, moderate
    expect(hourlyVnAqi(pm25Hours([25.2, 25.2]))).toMatchObject({ aqi: 50, category: 1 });
    expect(hourlyVnAqi(pm25Hours([25.25, 25.25]))).toMatchObject({ aqi: 51, category: 2 });
  });
});

describe('aqiCategory', () => {
  it('follows the bands of Bảng 1 at their edges', () => {
    const edges = [0, 50, 51, 100, 101, 150, 151, 200, 201, 300, 301, 500];
    expect(edges.map((aqi) => aqiCategory(aqi).category)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
    expect(aqiCategory(50.4).key).toBe('good');
    expect(aqiCategory(50.5).key).toBe('moderate');
  });

  it("carries the Decision's colours and labels", () => {
    expect([0, 75, 125, 175, 250, 400].map(aqiCategory)).toEqual([
      { category: 1, key: 'good', color: '#00e400', rgb: [0, 228, 0], labelVi: 'Tốt', labelEn: 'Good' },
      { category: 2, key: 'moderate', color: '#ffff00', rgb: [255, 255, 0], labelVi: 'Trung bình', labelEn: 'Moderate' },
      { category: 3, key: 'poor', color: '#ff7e00', rgb: [255, 126, 0], labelVi: 'Kém', labelEn: 'Poor' },
      { category: 4, key: 'bad', color: '#ff0000', rgb: [255, 0, 0], labelVi: 'Xấu', labelEn: 'Bad' },
      { category: 5, key: 'very_bad', color: '#8f3f97', rgb: [143, 63, 151], labelVi: 'Rất xấu', labelEn: 'Very bad' },
      { category: 6, key: 'hazardous', color: '#7e0023', rgb: [126, 0, 35], labelVi: 'Nguy hại', labelEn: 'Hazardous' },
    ]);
  });

  it('refuses what is not an AQI', () => {
    expect(() => aqiCategory(-1)).toThrow(RangeError);
    expect(() => aqiCategory(Number.NaN)).toThrow(RangeError);
  });
});
