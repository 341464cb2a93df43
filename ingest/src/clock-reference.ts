/**
 * The rule that tells a device clock running behind from a message that was merely delivered late.
 *
 * A message's lag is its arrival minus its `sentAt`. The smallest lag over the last few seconds is the
 * delay of the pipeline itself, near zero when live; a device whose lag exceeds it by more than the
 * limit has a clock behind. A backlog the broker held while ingest was away (killed, cut off, or not
 * reading because its spool was full) lags too, and may arrive mixed with live messages, so after a
 * silence longer than the limit nothing sent since the silence began is judged behind until the
 * backlog has had time to drain: as long again as the silence lasted (ingest takes a backlog faster
 * than it built up, or it would never catch up), plus a minute.
 */
const BUCKET_MS = 1000;
const BUCKETS = 10;
const DRAIN_MARGIN_MS = 60_000;

export class ClockReference {
  /** The smallest lag per second of arrival, for the last BUCKETS seconds. */
  private readonly minLag = new Map<number, number>();
  private backlog: { since: number; until: number } | undefined;

  /** `lastArrival`: when a previous run last received a message, so that a crash counts as a gap. */
  constructor(
    private readonly maxBehindMs: number,
    private lastArrival?: number,
  ) {}

  /** When ingest last received a message. */
  get lastArrivalAt(): number | undefined {
    return this.lastArrival;
  }

  /** Every message's arrival: a silence longer than the limit is a gap whose backlog may follow. */
  arrived(now: number): void {
    if (this.lastArrival !== undefined && now - this.lastArrival > this.maxBehindMs) this.resumedAfterGap(this.lastArrival, now);
    this.lastArrival = now;
  }

  observe(receivedAt: number, sentAt: number): void {
    const bucket = Math.floor(receivedAt / BUCKET_MS);
    // A clock a little ahead (allowed up to the future limit) must not make the reference stricter.
    const lag = Math.max(0, receivedAt - sentAt);
    const known = this.minLag.get(bucket);
    if (known === undefined || lag < known) this.minLag.set(bucket, lag);
    if (known === undefined) this.forgetBefore(bucket - BUCKETS + 1);
  }

  private resumedAfterGap(gapStart: number, now: number): void {
    const pending = this.backlog && now < this.backlog.until ? this.backlog.since : gapStart;
    const since = Math.min(gapStart, pending);
    this.backlog = { since, until: now + (now - since) + DRAIN_MARGIN_MS };
  }

  /** The earliest `sentAt` a sound clock could have stamped on a message arriving now; undefined when there is nothing to compare with. */
  earliestSentAt(now: number): number | undefined {
    const oldest = Math.floor(now / BUCKET_MS) - BUCKETS + 1;
    let lag: number | undefined;
    for (const [bucket, value] of this.minLag) {
      if (bucket >= oldest && (lag === undefined || value < lag)) lag = value;
    }
    if (lag === undefined) return undefined;
    const earliest = now - lag - this.maxBehindMs;
    if (this.backlog && now >= this.backlog.until) this.backlog = undefined;
    return this.backlog ? Math.min(earliest, this.backlog.since - this.maxBehindMs) : earliest;
  }

  private forgetBefore(bucket: number): void {
    for (const key of this.minLag.keys()) if (key < bucket) this.minLag.delete(key);
  }
}
