import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../src/rate-limit.js';

describe('TokenBucket', () => {
  it('allows a burst, then the sustained rate', () => {
    const bucket = new TokenBucket(10, 5, 0);
    const burst = Array.from({ length: 8 }, () => bucket.take(0));
    expect(burst.filter(Boolean)).toHaveLength(5);
    expect(bucket.take(50)).toBe(false);
    expect(bucket.take(100)).toBe(true);
    // One second refills ten tokens but never more than the burst.
    let allowed = 0;
    for (let i = 0; i < 20; i++) if (bucket.take(2000)) allowed++;
    expect(allowed).toBe(5);
  });
});
