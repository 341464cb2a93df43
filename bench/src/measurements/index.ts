/** Every measurement `npm run bench` takes, in the order it takes them. */
import type { Measurement } from '../measurement.js';
import { consoleMeasurement } from './console.js';
import { e2eIngest } from './e2e-ingest.js';
import { history } from './history.js';
import { latency } from './latency.js';
import { nodeRed } from './node-red.js';

export const measurements: Measurement[] = [e2eIngest, nodeRed, latency, history, consoleMeasurement];
