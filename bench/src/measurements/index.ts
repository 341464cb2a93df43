/** Every measurement `npm run bench` takes, in the order it takes them. */
import type { Measurement } from '../measurement.js';
import { brokerThroughput } from './broker.js';

export const measurements: Measurement[] = [brokerThroughput];
