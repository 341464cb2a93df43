/** Every measurement `npm run bench` takes, in the order it takes them. */
import type { Measurement } from '../measurement.js';
import { consoleMeasurement } from './console.js';
import { history } from './history.js';
import { nodeRed } from './node-red.js';

export const measurements: Measurement[] = [nodeRed, history, consoleMeasurement];
