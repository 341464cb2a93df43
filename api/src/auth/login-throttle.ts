/**
 * Slows down guessing one account's password from many addresses (the per-address limit is the rate
 * limiter's): after a few failures an account answers 429 for a while, doubling with each further
 * failure, so a real operator who mistyped waits seconds while a brute force waits hours.
 */
export interface ThrottlePolicy {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = { freeFailures: 5, baseDelayMs: 30_000, maxDelayMs: 3_600_000, windowMs: 3_600_000 };

/** Bounded, so that failures under random usernames cannot grow memory without end. */
const MAX_TRACKED = 10_000;

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; last: number }>();

  constructor(private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE) {}

  /** Milliseconds to wait before this account may try again; 0 when it may. */
  retryAfter(username: string, now = Date.now()): number {
    const entry = this.failures.get(username);
    if (!entry || now - entry.last > this.policy.windowMs) return 0;
    const over = entry.count - this.policy.freeFailures;
    if (over < 0) return 0;
    const delay = Math.min(this.policy.baseDelayMs * 2 ** over, this.policy.maxDelayMs);
    return Math.max(0, entry.last + delay - now);
  }

  fail(username: string, now = Date.now()): void {
    const entry = this.failures.get(username);
    const count = entry && now - entry.last <= this.policy.windowMs ? entry.count + 1 : 1;
    this.failures.delete(username);
    this.failures.set(username, { count, last: now });
    if (this.failures.size > MAX_TRACKED) this.failures.delete(this.failures.keys().next().value as string);
  }

  succeed(username: string): void {
    this.failures.delete(username);
  }
}
