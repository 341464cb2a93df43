import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nodeArgsFor } from '../src/node-args.js';

/** The options a Node started with them reports: Node refuses to start on an option it does not know. */
const acceptedArgs = (args: readonly string[]) =>
  JSON.parse(execFileSync(process.execPath, [...args, '-e', 'process.stdout.write(JSON.stringify(process.execArgv))'], { encoding: 'utf8' })) as string[];

describe('the V8 options of each service', () => {
  it("gives the broker and ingest a larger young generation, one-thread garbage collection and a fixed old-generation growth, in options this Node accepts, and the others V8's defaults", () => {
    const broker = nodeArgsFor('broker');
    const ingest = nodeArgsFor('ingest');
    expect(broker).toEqual(['--max-semi-space-size=128', '--single-threaded-gc', '--heap-growing-percent=200']);
    expect(ingest).toEqual(['--max-semi-space-size=32', '--single-threaded-gc', '--heap-growing-percent=400']);
    // An option Node did not know would keep the service from coming up at all.
    for (const args of [broker, ingest]) expect(acceptedArgs(args).slice(0, args.length)).toEqual([...args]);
    expect(nodeArgsFor('api')).toEqual([]);
  });
});
