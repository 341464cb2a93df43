/**
 * The hourly Vietnamese air quality index (VN_AQI, "AQI giờ") of Decision 1459/QĐ-TCMT of 12 November 2019
 * of the Vietnam Environment Administration (Tổng cục Môi trường), section 2.2.1. Pure functions of hourly
 * means in µg/m³, the unit the Decision's breakpoints and our `air_quality` devices both use (CO included).
 */

export type Pollutant = 'pm25' | 'pm10' | 'o3' | 'co' | 'so2' | 'no2';

/** In the order a tie between equal sub-indices is settled: particulates first, as the Decision requires one of them. */
export const POLLUTANTS: readonly Pollutant[] = ['pm25', 'pm10', 'o3', 'co', 'so2', 'no2'];

/** The I_i column of the Decision's breakpoint table (Bảng 2; Bảng 1 is the category table). */
export const INDEX_LEVELS: readonly number[] = [0, 50, 100, 150, 200, 300, 400, 500];

/**
 * The BP_i of Bảng 2, µg/m³, one per I_i. The hourly index uses the O3 1-hour column (the Decision's note to
 * Bảng 2), which runs to I = 500 like the others; the 8-hour column, which stops at 400 µg/m³ = 300, is daily only.
 * The last row reads "≥ BP" in the Decision: everything at or above it is 500.
 */
export const BREAKPOINTS: Readonly<Record<Pollutant, readonly number[]>> = {
  o3: [0, 160, 200, 300, 400, 800, 1_000, 1_200],
  co: [0, 10_000, 30_000, 45_000, 60_000, 90_000, 120_000, 150_000],
  so2: [0, 125, 350, 550, 800, 1_600, 2_100, 2_630],
  no2: [0, 100, 200, 700, 1_200, 2_350, 3_100, 3_850],
  pm10: [0, 50, 150, 250, 350, 420, 500, 600],
  pm25: [0, 25, 50, 80, 150, 250, 350, 500],
};

const MAX_INDEX = 500;
const NOWCAST_HOURS = 12;
const NOWCAST_MIN_WEIGHT = 0.5;

function assertConcentration(concentration: number): void {
  if (!Number.isFinite(concentration) || concentration < 0) throw new RangeError(`not a concentration: ${concentration}`);
}

/**
 * AQI_x = (I_{i+1} − I_i) / (BP_{i+1} − BP_i) × (C_x − BP_i) + I_i, unrounded. Breakpoints are contiguous, so a
 * concentration on a breakpoint gives that breakpoint's I from either side. At or above the top breakpoint the
 * index is 500, not extrapolated: the Decision's scale (Bảng 1) ends at 500 and its top row reads "≥".
 * Throws a RangeError for a negative or non-finite concentration.
 */
export function subIndex(pollutant: Pollutant, concentration: number): number {
  assertConcentration(concentration);
  const breakpoints = BREAKPOINTS[pollutant];
  for (let level = 0; level < breakpoints.length - 1; level++) {
    const low = breakpoints[level]!;
    const high = breakpoints[level + 1]!;
    if (concentration < high) {
      const indexLow = INDEX_LEVELS[level]!;
      const indexHigh = INDEX_LEVELS[level + 1]!;
      return ((indexHigh - indexLow) / (high - low)) * (concentration - low) + indexLow;
    }
  }
  return MAX_INDEX;
}

/**
 * The Decision's NowCast (2.2.1 a) of PM2.5 or PM10: c_1 (index 0) is the current hour's mean, c_12 the one 11 hours
 * before; entries past the twelfth are ignored. w* = c_min / c_max over the hours present, w = max(w*, 1/2), and
 * NowCast = Σ w^(i−1)·c_i / Σ w^(i−1) over the hours present (a missing c_i has weight 0, as the Decision says).
 *
 * For w = 1/2 the Decision prints the shortcut Σ (1/2)^i·c_i, which is the same quotient with Σ (1/2)^(i−1) = 2 − 2^−11
 * taken as 2: it reads 0.024 % low with all 12 hours and, having no denominator, far low when an hour is missing
 * (a missing c_1 would halve it). The quotient is used for every w so that a gap does not lower the index.
 *
 * Undefined unless at least 2 of c_1, c_2, c_3 are present (the Decision's completeness rule). Throws a RangeError
 * for a negative or non-finite mean.
 */
export function nowcast(hourlyMeans: readonly (number | undefined)[]): number | undefined {
  const window = hourlyMeans.slice(0, NOWCAST_HOURS);
  if (window.slice(0, 3).filter((mean) => mean !== undefined).length < 2) return undefined;
  const present = window.filter((mean): mean is number => mean !== undefined);
  present.forEach(assertConcentration);
  const cmax = Math.max(...present);
  if (cmax === 0) return 0;
  const weight = Math.max(Math.min(...present) / cmax, NOWCAST_MIN_WEIGHT);
  let weightedSum = 0;
  let weightSum = 0;
  window.forEach((mean, hoursAgo) => {
    if (mean === undefined) return;
    weightedSum += weight ** hoursAgo * mean;
    weightSum += weight ** hoursAgo;
  });
  return weightedSum / weightSum;
}

/** One clock hour's mean concentrations, µg/m³; a pollutant not measured in that hour is absent. */
export interface HourlyMeans {
  values: Partial<Record<Pollutant, number>>;
}

export interface HourlyVnAqi {
  /** The hourly VN_AQI, rounded to an integer as the Decision requires (2.2.1 c). */
  aqi: number;
  /** 1 (good) to 6 (hazardous): see {@link aqiCategory}. */
  category: number;
  /** The pollutant with the highest sub-index, which the Decision requires every publication to name (Bảng 3). */
  pollutant: Pollutant;
  /** Every sub-index that could be computed, rounded like the AQI, as the Decision's own worked example shows them. */
  subIndices: Partial<Record<Pollutant, number>>;
}

const PARTICULATES: readonly Pollutant[] = ['pm25', 'pm10'];

/**
 * The hourly VN_AQI from up to 12 hours of means, index 0 the current hour (an undefined entry is an hour without data):
 * PM2.5 and PM10 from their NowCast, O3 (1-hour breakpoints), CO, SO2 and NO2 from the current hour's mean only, the
 * AQI the largest sub-index. Undefined when neither PM2.5 nor PM10 has a NowCast, since the Decision computes
 * VN_AQI only with at least one of them (2.1 b) however high the gases are.
 */
export function hourlyVnAqi(hours: readonly (HourlyMeans | undefined)[]): HourlyVnAqi | undefined {
  const exact = new Map<Pollutant, number>();
  for (const pollutant of POLLUTANTS) {
    const concentration = PARTICULATES.includes(pollutant) ? nowcast(hours.map((hour) => hour?.values[pollutant])) : hours[0]?.values[pollutant];
    if (concentration !== undefined) exact.set(pollutant, subIndex(pollutant, concentration));
  }
  if (!PARTICULATES.some((pollutant) => exact.has(pollutant))) return undefined;

  const subIndices: Partial<Record<Pollutant, number>> = {};
  for (const [pollutant, index] of exact) subIndices[pollutant] = Math.round(index);
  // Strictly greater keeps the earlier pollutant of POLLUTANTS on a tie.
  const [pollutant, highest] = [...exact].reduce((best, entry) => (entry[1] > best[1] ? entry : best));
  const aqi = Math.round(highest);
  return { aqi, category: aqiCategory(aqi).category, pollutant, subIndices };
}

export type AqiCategoryKey = 'good' | 'moderate' | 'poor' | 'bad' | 'very_bad' | 'hazardous';

export interface AqiCategory {
  category: 1 | 2 | 3 | 4 | 5 | 6;
  key: AqiCategoryKey;
  /** The Decision's RGB as #rrggbb. */
  color: string;
  rgb: readonly [number, number, number];
  labelVi: string;
  labelEn: string;
}

/** Bảng 1 of the Decision. */
const CATEGORIES: readonly AqiCategory[] = [
  { category: 1, key: 'good', color: '#00e400', rgb: [0, 228, 0], labelVi: 'Tốt', labelEn: 'Good' },
  { category: 2, key: 'moderate', color: '#ffff00', rgb: [255, 255, 0], labelVi: 'Trung bình', labelEn: 'Moderate' },
  { category: 3, key: 'poor', color: '#ff7e00', rgb: [255, 126, 0], labelVi: 'Kém', labelEn: 'Poor' },
  { category: 4, key: 'bad', color: '#ff0000', rgb: [255, 0, 0], labelVi: 'Xấu', labelEn: 'Bad' },
  { category: 5, key: 'very_bad', color: '#8f3f97', rgb: [143, 63, 151], labelVi: 'Rất xấu', labelEn: 'Very bad' },
  { category: 6, key: 'hazardous', color: '#7e0023', rgb: [126, 0, 35], labelVi: 'Nguy hại', labelEn: 'Hazardous' },
];

/** The highest AQI of each band of Bảng 1 but the last, which takes everything above. */
const CATEGORY_TOPS: readonly number[] = [50, 100, 150, 200, 300];

/**
 * The band of Bảng 1 an AQI falls in (0–50, 51–100, 101–150, 151–200, 201–300, 301–500). The bands are of integers,
 * so a fractional AQI is rounded first: 50.4 is good, 50.5 moderate. Throws a RangeError for a negative or non-finite AQI.
 */
export function aqiCategory(aqi: number): AqiCategory {
  if (!Number.isFinite(aqi) || aqi < 0) throw new RangeError(`not an AQI: ${aqi}`);
  const rounded = Math.round(aqi);
  return { ...CATEGORIES[CATEGORY_TOPS.filter((top) => rounded > top).length]! };
}
