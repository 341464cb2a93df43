/** `npm run test:faults` ends here: the outcomes the suite recorded become docs/reliability.md. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readOutcomes, renderReport } from './report.js';

const target = fileURLToPath(new URL('../../docs/reliability.md', import.meta.url));
const outcomes = readOutcomes();
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, renderReport(outcomes));
console.error(`reliability report: ${outcomes.length} outcomes → ${target}`);
