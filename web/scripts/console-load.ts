/**
 * `npm run measure:console -w web [-- --devices 10000 --rate 250 --window 30 --trace startup.json]`: how the
 * console holds up with a city's worth of devices (console-bench.ts says what it measures). Not a test: it
 * prints figures for web/README.md — progress on stderr, the figures as one JSON object on stdout. The bench's
 * `console` measurement runs the same code.
 */
import { parseArgs } from 'node:util';
import { measureConsole } from './console-bench.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '250' },
    window: { type: 'string', default: '30' },
    quiet: { type: 'string', default: '10' },
    trace: { type: 'string' },
  },
});

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

measureConsole({ devices: Number(values.devices), rate: Number(values.rate), windowS: Number(values.window), quietS: Number(values.quiet), startupTracePath: values.trace, log }).then(
  (figures) => {
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    process.exit(0);
  },
  (error: Error) => {
    log(`failed / thất bại: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
