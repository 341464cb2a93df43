/** Every measurement `npm run bench` takes, in the order it takes them. */
import type { Measurement } from '../measurement.js';
import { consoleMeasurement } from './console.js';

export const measurements: Measurement[] = [consoleMeasurement];
