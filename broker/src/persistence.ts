/**
 * Where the broker keeps what must outlive it: persistent sessions (ingest's) with their subscriptions and the
 * QoS 1 messages queued for them, and retained messages (every device's status). With REDIS_URL that is
 * Redis, so a broker restart loses none of it; without, memory (tests that need no restart).
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { AedesOptions } from 'aedes';
import { Redis } from 'ioredis';
import type { Logger } from '@city/platform';

type Persistence = NonNullable<AedesOptions['persistence']> & { destroy?: () => Promise<void> };

const require = createRequire(import.meta.url);

export interface BrokerPersistence {
  persistence: Persistence | undefined;
  close(): Promise<void>;
}

/** Opens the store; `persistence` is undefined for the broker's own in-memory store (memory-persistence.ts). */
export function createPersistence(redisUrl: string | undefined, maxSessionDelivery: number, logger: Logger): BrokerPersistence {
  if (!redisUrl) {
    logger.warn('no REDIS_URL: sessions, retained statuses and undelivered QoS 1 messages are kept in memory and lost when the broker stops');
    return { persistence: undefined, close: async () => undefined };
  }
  // The package's main export wraps this class in the callback API of older aedes; aedes 1.x takes the async one.
  const AsyncRedisPersistence = require('aedes-persistence-redis/asyncPersistence.js') as new (options: { conn: Redis; maxSessionDelivery: number }) => Persistence;
  // ioredis queues commands while it reconnects; a Redis that stays away must fail publishes, not hold them forever.
  const conn = new Redis(redisUrl, { maxRetriesPerRequest: 20 });
  // One line per outage: ioredis reports every failed reconnect attempt.
  let down = false;
  conn.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.error({ err: error.message }, 'lost the connection to Redis: publishes wait or fail until it is back');
  });
  conn.on('ready', () => {
    if (down) logger.info('Redis is back');
    down = false;
  });
  const persistence = new AsyncRedisPersistence({ conn, maxSessionDelivery });
  asStreams(persistence as unknown as Record<StreamMethod, (...args: unknown[]) => AsyncIterable<unknown>>);
  const writes = trackWrites(persistence as unknown as Record<WriteMethod, (...args: unknown[]) => Promise<unknown>>);
  return {
    persistence,
    close: async () => {
      const unsettled = await writes.settle(SETTLE_TIMEOUT_MS);
      if (unsettled > 0) logger.error({ writes: unsettled }, 'stopping with writes to Redis still pending: the messages they carry may be lost');
      await persistence.destroy?.();
    },
  };
}

/**
 * What stores a message the broker accepted. aedes 1.x sends a QoS 1 PUBACK before it has stored the message
 * (lib/handlers/publish.js writes the PUBACK, then publishes), so a stop must let these writes finish before it
 * closes the Redis connection, which would drop them: the device already counts the message as delivered.
 */
const WRITE_METHODS = ['storeRetained', 'outgoingEnqueueCombi', 'outgoingUpdate', 'outgoingClearMessageId'] as const;
type WriteMethod = (typeof WRITE_METHODS)[number];
const SETTLE_TIMEOUT_MS = 10_000;

function trackWrites(persistence: Record<WriteMethod, (...args: unknown[]) => Promise<unknown>>) {
  const pending = new Set<Promise<unknown>>();
  for (const name of WRITE_METHODS) {
    const original = persistence[name].bind(persistence);
    persistence[name] = (...args) => {
      const write = original(...args);
      pending.add(write);
      const forget = () => pending.delete(write);
      write.then(forget, forget);
      return write;
    };
  }
  return {
    /** Waits until no write is pending across an event-loop turn (a publish starts its next write from the last one's callback); returns how many remain at the timeout. */
    async settle(timeoutMs: number): Promise<number> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await new Promise((resolve) => setImmediate(resolve));
        if (pending.size === 0 || Date.now() > deadline) return pending.size;
        await Promise.race([Promise.allSettled([...pending]), new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())))]);
      }
    },
  };
}

const STREAM_METHODS = ['createRetainedStream', 'createRetainedStreamCombi', 'outgoingStream', 'streamWill', 'getClientList'] as const;
type StreamMethod = (typeof STREAM_METHODS)[number];

/**
 * aedes 1.x pipes what these return (`stream.pipe(...)`), and its in-memory store returns Readables; the Redis
 * store returns async generators, which have no `pipe`, so a SUBSCRIBE that matched a retained message would throw.
 */
function asStreams(persistence: Record<StreamMethod, (...args: unknown[]) => AsyncIterable<unknown>>): void {
  for (const name of STREAM_METHODS) {
    const original = persistence[name].bind(persistence);
    persistence[name] = (...args) => Readable.from(original(...args));
  }
}
