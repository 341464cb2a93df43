/**
 * The live hourly VN_AQI of each air-quality station: readings are folded into clock-hour means as they arrive, and
 * the 12 hours the NowCast looks at are kept, no more. Asia/Ho_Chi_Minh is UTC+7 all year, so its clock hours are
 * whole UTC hours and truncating epoch milliseconds to the hour finds them.
 */
import { hourlyVnAqi, POLLUTANTS, type HourlyMeans, type HourlyVnAqi, type Pollutant } from './vn-aqi.js';

const HOUR_MS = 3_600_000;
const HOURS_KEPT = 12;

interface Accumulator {
  sum: number;
  count: number;
}

/** One station's clock hours, by the epoch ms at which each starts. */
interface Station {
  hours: Map<number, Map<Pollutant, Accumulator>>;
  /** The start of the latest hour a reading or seed has reached; the 11 hours before it are the rest of the window. */
  newestHour: number;
}

const hourOf = (ts: number): number => Math.floor(ts / HOUR_MS) * HOUR_MS;

const isConcentration = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

export class AqiTracker {
  readonly #stations = new Map<string, Station>();

  /**
   * Adds one reading, timestamped `ts` (epoch ms), to the mean of its clock hour. A reading late by up to 11 hours
   * behind the station's newest still counts in its hour; an older one is ignored, its hour gone from the window.
   * Values that are not concentrations (negative, NaN) are ignored, so one bad field does not poison an hour's mean.
   */
  add(stationId: string, ts: number, values: Partial<Record<Pollutant, number>>): void {
    const bucket = this.#bucket(stationId, ts);
    if (!bucket) return;
    for (const pollutant of POLLUTANTS) {
      const value = values[pollutant];
      if (!isConcentration(value)) continue;
      const accumulator = bucket.get(pollutant);
      if (accumulator) {
        accumulator.sum += value;
        accumulator.count += 1;
      } else bucket.set(pollutant, { sum: value, count: 1 });
    }
  }

  /**
   * Restores the means of the clock hour containing `hourStart`, as read back from InfluxDB when the api starts,
   * replacing whatever that hour held for those pollutants. `readingCounts` says how many readings each mean stands for
   * (1 when not given), so that live readings arriving later in the same hour join the mean with their due weight; a mean
   * with a count that is not a positive integer is ignored, like one that is not a concentration.
   */
  seed(stationId: string, hourStart: number, means: Partial<Record<Pollutant, number>>, readingCounts: Partial<Record<Pollutant, number>> = {}): void {
    const bucket = this.#bucket(stationId, hourStart);
    if (!bucket) return;
    for (const pollutant of POLLUTANTS) {
      const mean = means[pollutant];
      if (!isConcentration(mean)) continue;
      const count = readingCounts[pollutant] ?? 1;
      if (Number.isInteger(count) && count > 0) bucket.set(pollutant, { sum: mean * count, count });
    }
  }

  /**
   * The station's hourly VN_AQI at `now`: the hour containing `now` (however little of it has passed) is the current
   * hour, and an hour without readings is missing. Undefined for an unknown station or when the Decision's data rules fail.
   */
  current(stationId: string, now: number): HourlyVnAqi | undefined {
    const station = this.#stations.get(stationId);
    if (!station) return undefined;
    const currentHour = hourOf(now);
    const hours: (HourlyMeans | undefined)[] = [];
    for (let hoursAgo = 0; hoursAgo < HOURS_KEPT; hoursAgo++) {
      const bucket = station.hours.get(currentHour - hoursAgo * HOUR_MS);
      hours.push(bucket && { values: Object.fromEntries([...bucket].map(([pollutant, { sum, count }]) => [pollutant, sum / count])) });
    }
    return hourlyVnAqi(hours);
  }

  remove(stationId: string): void {
    this.#stations.delete(stationId);
  }

  /** The accumulators of the hour containing `ts`, made if need be; undefined when that hour has left the window. */
  #bucket(stationId: string, ts: number): Map<Pollutant, Accumulator> | undefined {
    if (!Number.isFinite(ts)) return undefined;
    const hour = hourOf(ts);
    let station = this.#stations.get(stationId);
    if (!station) {
      station = { hours: new Map(), newestHour: hour };
      this.#stations.set(stationId, station);
    }
    if (hour > station.newestHour) {
      station.newestHour = hour;
      for (const start of station.hours.keys()) if (start <= hour - HOURS_KEPT * HOUR_MS) station.hours.delete(start);
    } else if (hour <= station.newestHour - HOURS_KEPT * HOUR_MS) return undefined;
    let bucket = station.hours.get(hour);
    if (!bucket) {
      bucket = new Map();
      station.hours.set(hour, bucket);
    }
    return bucket;
  }
}
