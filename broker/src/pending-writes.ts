/**
 * The store writes still on their way, so that a stop lets them finish before it closes the store's connection,
 * which would drop them. A PUBACK waits for its message's write (acknowledge-after-store.ts); these are the writes
 * nobody waits on, and the others of a stop that comes mid-publish: finishing them spares duplicates after restart.
 */
import { settlesWithin } from '@city/platform';

export type AsyncMethods<Name extends string> = Record<Name, (...args: unknown[]) => Promise<unknown>>;

export interface PendingWrites {
  /** Waits until no write is pending across an event-loop turn (a publish starts its next write from the last one's callback); returns how many remain at the timeout. */
  settle(timeoutMs: number): Promise<number>;
}

export function trackWrites<Name extends string>(store: AsyncMethods<Name>, methods: readonly Name[]): PendingWrites {
  const pending = new Set<Promise<unknown>>();
  for (const name of methods) {
    const original = store[name].bind(store);
    store[name] = (...args) => {
      const write = original(...args);
      pending.add(write);
      const forget = () => pending.delete(write);
      write.then(forget, forget);
      return write;
    };
  }
  return {
    async settle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await new Promise((resolve) => setImmediate(resolve));
        if (pending.size === 0 || Date.now() > deadline) return pending.size;
        await settlesWithin(Promise.allSettled([...pending]), Math.max(0, deadline - Date.now()));
      }
    },
  };
}
