/** The broker's store in Redis (REDIS_URL): aedes-persistence-redis over one ioredis connection. */
import { createRequire } from 'node:module';
import type { AedesOptions } from 'aedes';
import { Redis } from 'ioredis';
import type { Logger } from '@city/platform';
import { trackWrites, type AsyncMethods } from './pending-writes.js';
import { streamsAsReadables } from './readable-streams.js';

type Persistence = NonNullable<AedesOptions['persistence']> & { destroy?: () => Promise<void> };

const require = createRequire(import.meta.url);
const WRITE_METHODS = ['storeRetained', 'outgoingEnqueueCombi', 'outgoingUpdate', 'outgoingClearMessageId'] as const;
const SETTLE_TIMEOUT_MS = 10_000;

export function createRedisPersistence(redisUrl: string, maxSessionDelivery: number, logger: Logger): { persistence: Persistence; inProcess: false; close(): Promise<void> } {
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
  streamsAsReadables(persistence as unknown as Parameters<typeof streamsAsReadables>[0]);
  const writes = trackWrites(persistence as unknown as AsyncMethods<(typeof WRITE_METHODS)[number]>, WRITE_METHODS);
  return {
    persistence,
    inProcess: false,
    close: async () => {
      const unsettled = await writes.settle(SETTLE_TIMEOUT_MS);
      if (unsettled > 0) logger.error({ writes: unsettled }, 'stopping with writes to Redis still pending: the messages they carry may be lost');
      await persistence.destroy?.();
    },
  };
}
