/** Publish→ack latencies in a fixed-size reservoir, so a long run keeps a fair sample in bounded memory. */
export class LatencySample {
  private readonly values: number[] = [];
  private seen = 0;

  constructor(private readonly capacity = 100_000) {}

  add(ms: number): void {
    this.seen++;
    if (this.values.length < this.capacity) this.values.push(ms);
    else {
      const slot = Math.floor(Math.random() * this.seen);
      if (slot < this.capacity) this.values[slot] = ms;
    }
  }

  merge(values: readonly number[]): void {
    for (const value of values) this.add(value);
  }

  snapshot(): number[] {
    return [...this.values];
  }

  percentiles(): { p50: number; p95: number; p99: number; max: number } {
    const sorted = [...this.values].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length === 0 ? 0 : Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number).toFixed(2)));
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
  }
}
