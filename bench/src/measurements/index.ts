/** Every measurement `npm run bench` takes, in the order it takes them. */
import type { Measurement } from '../measurement.js';
import { e2eIngest } from './e2e-ingest.js';
import { latency } from './latency.js';

export const measurements: Measurement[] = [e2eIngest, latency];
