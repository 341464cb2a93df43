/**
 * Makes guessing secrets at CONNECT impractical. Failed CONNECTs are counted per claimed device id and per
 * source address; past a few free failures that id or address is refused outright, without looking at its
 * credentials, for a back-off that doubles with each further failure. Refusing unchecked also spares the
 * broker the scrypt every guess would cost.
 */
export interface BackoffPolicy {
  /** Failures allowed before the back-off starts (a device with a mistyped secret retrying a few times). */
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Bounded, so that guesses under random ids or from many addresses cannot grow memory without end. */
const MAX_KEYS = 20_000;

interface Strikes {
  failures: number;
  /** Refused until then. */
  until: number;
}

export class FailureBackoff {
  private readonly strikes = new Map<string, Strikes>();

  constructor(private readonly policy: BackoffPolicy) {}

  /** Milliseconds this key stays refused; 0 when it may try. */
  refusedFor(key: string, now = Date.now()): number {
    const entry = this.strikes.get(key);
    return entry ? Math.max(0, entry.until - now) : 0;
  }

  fail(key: string, now = Date.now()): void {
    const previous = this.strikes.get(key);
    // Quiet for as long as the longest back-off: the slate is clean again.
    const failures = previous && now - previous.until < this.policy.maxDelayMs ? previous.failures + 1 : 1;
    const over = failures - this.policy.freeFailures;
    const until = over > 0 ? now + Math.min(this.policy.baseDelayMs * 2 ** (over - 1), this.policy.maxDelayMs) : now;
    this.strikes.delete(key);
    this.strikes.set(key, { failures, until });
    if (this.strikes.size > MAX_KEYS) this.strikes.delete(this.strikes.keys().next().value as string);
  }

  forget(key: string): void {
    this.strikes.delete(key);
  }
}

export interface ConnectThrottleOptions {
  perDevice: BackoffPolicy;
  perAddress: BackoffPolicy;
  /** Addresses never refused as a whole: the platform's own services connect from here. */
  trustedAddresses: ReadonlySet<string>;
}

export type ThrottleVerdict = { refused: false } | { refused: true; reason: 'throttled_device' | 'throttled_address'; retryAfterMs: number };

const SERVICE_USER_PREFIX = 'service:';

export class ConnectThrottle {
  private readonly devices: FailureBackoff;
  private readonly addresses: FailureBackoff;

  constructor(private readonly options: ConnectThrottleOptions) {
    this.devices = new FailureBackoff(options.perDevice);
    this.addresses = new FailureBackoff(options.perAddress);
  }

  check(username: string | undefined, address: string | undefined, now = Date.now()): ThrottleVerdict {
    const device = this.deviceKey(username);
    const byDevice = device === undefined ? 0 : this.devices.refusedFor(device, now);
    if (byDevice > 0) return { refused: true, reason: 'throttled_device', retryAfterMs: byDevice };
    const addressKey = this.addressKey(address);
    const byAddress = addressKey === undefined ? 0 : this.addresses.refusedFor(addressKey, now);
    if (byAddress > 0) return { refused: true, reason: 'throttled_address', retryAfterMs: byAddress };
    return { refused: false };
  }

  failed(username: string | undefined, address: string | undefined, now = Date.now()): void {
    const device = this.deviceKey(username);
    if (device !== undefined) this.devices.fail(device, now);
    const addressKey = this.addressKey(address);
    if (addressKey !== undefined) this.addresses.fail(addressKey, now);
  }

  /**
   * Only the device's count is cleared: an attacker holding one real device could otherwise reset their
   * address's count between guesses at others.
   */
  succeeded(username: string | undefined): void {
    const device = this.deviceKey(username);
    if (device !== undefined) this.devices.forget(device);
  }

  /**
   * Service identities are left to the address limit: anyone who knows `service:ingest` could otherwise
   * lock ingest out of the broker with a few wrong passwords.
   */
  private deviceKey(username: string | undefined): string | undefined {
    return username && !username.startsWith(SERVICE_USER_PREFIX) ? username.slice(0, 128) : undefined;
  }

  private addressKey(address: string | undefined): string | undefined {
    return address && !this.options.trustedAddresses.has(address) ? address : undefined;
  }
}
