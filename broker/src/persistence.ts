/**
 * Where the broker keeps what must outlive it: persistent sessions (ingest's) with their subscriptions and the
 * QoS 1 messages queued for them, retained messages (every device's status), wills. By default a write-ahead log
 * in DATA_DIR (durable-persistence.ts); in Redis when REDIS_URL is set; in memory only with BROKER_STORE=memory.
 */
import type { AedesOptions } from 'aedes';
import type { Logger } from '@city/platform';
import type { BrokerConfig } from './config.js';
import { DurablePersistence } from './durable-persistence.js';
import { createRedisPersistence } from './redis-persistence.js';

export interface BrokerPersistence {
  /** Undefined for the broker's own in-memory store (memory-persistence.ts). */
  persistence: AedesOptions['persistence'] | undefined;
  /** Whether the store runs in this process, writing in the order it is called within a turn (lean-publish.ts relies on it). */
  inProcess: boolean;
  close(): Promise<void>;
}

type StoreConfig = Pick<BrokerConfig, 'DATA_DIR' | 'REDIS_URL' | 'BROKER_STORE' | 'BROKER_MAX_SESSION_DELIVERY'>;

export async function createPersistence(config: StoreConfig, logger: Logger): Promise<BrokerPersistence> {
  if (config.REDIS_URL) return createRedisPersistence(config.REDIS_URL, config.BROKER_MAX_SESSION_DELIVERY, logger);
  if (config.BROKER_STORE === 'memory') {
    logger.warn('BROKER_STORE=memory: sessions, retained statuses and undelivered QoS 1 messages are lost when the broker stops');
    return { persistence: undefined, inProcess: true, close: async () => undefined };
  }
  const store = await DurablePersistence.open(config.DATA_DIR);
  return { persistence: store as unknown as AedesOptions['persistence'], inProcess: true, close: () => store.destroy() };
}
