export { freePort } from './free-port.js';
export { tempDir } from './temp-dir.js';
export { readMetric } from './metrics.js';
