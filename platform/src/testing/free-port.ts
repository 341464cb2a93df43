import { readFileSync } from 'node:fs';
import { canListen } from '../child-server.js';

/**
 * Ports are taken below the kernel's ephemeral range: a port the kernel handed out for `listen(0)` is
 * also a candidate for the local end of any outgoing connection, and under a busy test suite one
 * of those took a test's port between the pick and the service's bind (seen in CI as an api exiting
 * with EADDRINUSE, and the same after a restart on the same port). Each vitest worker walks its own
 * slice, so parallel test files never pick the same port either.
 */
const LOWEST = 10_000;
const SLICES = 16;

function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && Number.isInteger(low) && low > LOWEST + SLICES * 64) return low;
  } catch {
    // Not Linux: the default range of most systems starts at 32768 or above.
  }
  return 32_768;
}

const sliceSize = Math.floor((ephemeralStart() - LOWEST) / SLICES);
const poolId = Number(process.env.VITEST_POOL_ID ?? 0);
const sliceStart = LOWEST + (Number.isInteger(poolId) ? poolId % SLICES : 0) * sliceSize;
let next = Math.floor(Math.random() * sliceSize);

/** A port that was free a moment ago and that no outgoing connection will take; tests bind to it right away. */
export async function freePort(): Promise<number> {
  for (let tried = 0; tried < sliceSize; tried++) {
    const port = sliceStart + (next++ % sliceSize);
    if (await canListen('127.0.0.1', port)) return port;
  }
  throw new Error(`no free port between ${sliceStart} and ${sliceStart + sliceSize - 1}`);
}
