/** Every measurement `npm run bench` takes, in the order it takes them. */
import type { Measurement } from '../measurement.js';
import { history } from './history.js';

export const measurements: Measurement[] = [history];
