/** Every measurement `npm run bench` takes, in the order it takes them. */
import type { Measurement } from '../measurement.js';
import { brokerThroughput } from './broker.js';
import { connections } from './connections.js';

export const measurements: Measurement[] = [brokerThroughput, connections];
