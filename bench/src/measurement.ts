/** What every measurement of `npm run bench` is: a title, and a run that returns targets and raw figures. */
import type { MeasurementResult, Target } from './report.js';

export interface BenchContext {
  /** `--quick`: the same measurement, shorter (the whole bench under 5 minutes). */
  quick: boolean;
  /** A progress line on stderr, prefixed with the measurement's name. */
  progress(message: string): void;
  /** A fresh directory for this measurement's servers and data, removed after it. */
  dataDir: string;
}

export interface Measurement {
  /** Stable key, used by `--only`: `e2e-ingest`. */
  name: string;
  title: string;
  /** The targets it reports, so that a measurement that fails still shows them, missed. */
  declares: Omit<Target, 'value' | 'pass'>[];
  run(context: BenchContext): Promise<MeasurementResult>;
}
