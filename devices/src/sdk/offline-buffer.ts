/**
 * Readings waiting for a connection. Bounded, because a device offline for days must not run out of
 * memory; when full the oldest go first, since a city cares more about what is happening now.
 */
export class OfflineBuffer<T> {
  private items: T[] = [];
  private head = 0;
  private droppedCount = 0;

  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`buffer limit must be a positive integer, not ${limit}`);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Items dropped so far because the buffer was full. */
  get dropped(): number {
    return this.droppedCount;
  }

  push(item: T): void {
    this.items.push(item);
    this.trim();
  }

  /** Puts items back at the head, in their order: they were taken before anything still queued. */
  unshift(items: readonly T[]): void {
    if (items.length === 0) return;
    this.items = [...items, ...this.items.slice(this.head)];
    this.head = 0;
    this.trim();
  }

  /**
   * Takes from the head up to `maxItems` whose summed `weigh` stays within `maxWeight`; at least one
   * item when any is queued, so that a single heavy item cannot block the queue.
   */
  take(maxItems: number, maxWeight = Infinity, weigh: (item: T) => number = () => 0): T[] {
    const taken: T[] = [];
    let weight = 0;
    while (taken.length < maxItems && this.head < this.items.length) {
      const item = this.items[this.head] as T;
      const next = weight + weigh(item);
      if (taken.length > 0 && next > maxWeight) break;
      taken.push(item);
      weight = next;
      this.head++;
    }
    this.compact();
    return taken;
  }

  private trim(): void {
    const excess = this.length - this.limit;
    if (excess > 0) {
      this.head += excess;
      this.droppedCount += excess;
    }
    this.compact();
  }

  // Shifting an array one by one is O(n) each; a moving head with occasional compaction is O(1) amortised.
  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
