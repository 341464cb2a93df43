import { describe, expect, it } from 'vitest';
import { machineShares, parseMachineTicks, readMachineTicks } from '../src/process-cpu.js';

describe("the machine's CPU shares", () => {
  it("reads /proc/stat's cpu line, idle with iowait and the kernel with interrupts", () => {
    const stat = 'cpu  100 20 30 400 5 1 9 0 0 0\ncpu0 50 10 15 200 2 1 4 0 0 0\nintr 1 2\n';
    expect(parseMachineTicks(stat)).toEqual({ idle: 405, kernel: 40, total: 565 });
    expect(() => parseMachineTicks('intr 1 2\n')).toThrow(/cpu line/);
  });

  it('gives the shares of the time between two readings', () => {
    const before = parseMachineTicks('cpu  100 20 30 400 5 1 9 0 0 0');
    const after = parseMachineTicks('cpu  230 40 60 410 5 1 19 0 0 0');
    // 200 ticks passed: 10 idle, 30 + 10 in the kernel.
    expect(machineShares(before, after)).toEqual({ idle: 0.05, kernel: 0.2 });
  });

  it("reads this machine's counters, which only grow", () => {
    const first = readMachineTicks();
    const second = readMachineTicks();
    expect(first.total).toBeGreaterThan(0);
    expect(second.total).toBeGreaterThanOrEqual(first.total);
  });
});
