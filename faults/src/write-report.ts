/** `npm run test:faults` ends here: the outcomes the suite recorded become docs/reliability.md. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readOutcomes, renderReport } from './report.js';

const target = fileURLToPath(new URL('../../docs/reliability.md', import.meta.url));
const outcomes = readOutcomes();
writeFileSync(target, renderReport(outcomes));
console.error(`reliability report: ${outcomes.length} outcomes → ${target}`);
