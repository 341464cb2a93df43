import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nodeArgsFor } from '../src/node-args.js';

describe('the V8 options of each service', () => {
  it("gives the broker and ingest a larger young generation, in options this Node accepts, and the others V8's defaults", () => {
    const args = nodeArgsFor('broker');
    expect(args).toContain('--max-semi-space-size=32');
    // Node refuses to start on an option it does not know: the broker would not come up at all.
    const execArgv = JSON.parse(execFileSync(process.execPath, [...args, '-e', 'process.stdout.write(JSON.stringify(process.execArgv))'], { encoding: 'utf8' })) as string[];
    expect(execArgv.slice(0, args.length)).toEqual([...args]);
    expect(nodeArgsFor('ingest')).toEqual(args);
    expect(nodeArgsFor('api')).toEqual([]);
  });
});
