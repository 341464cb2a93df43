import { describe, expect, it } from 'vitest';
import { waitFor } from '@city/platform';
import { InputGate } from '../src/input-gate.js';

describe('InputGate', () => {
  it('closes at the limit and lets the held reads go on only once the backlog is under half of it', async () => {
    let backlog = 0;
    const gate = new InputGate(() => backlog, 100);
    expect(gate.closed).toBe(false);
    backlog = 100;
    expect(gate.closed).toBe(true);
    const resumed: string[] = [];
    gate.wait(() => resumed.push('a'));
    gate.wait(() => resumed.push('b'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    backlog = 60;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(resumed).toEqual([]);
    backlog = 50;
    await waitFor('the held reads resumed', () => resumed.length === 2, 1000);
    expect(resumed).toEqual(['a', 'b']);
  });
});
