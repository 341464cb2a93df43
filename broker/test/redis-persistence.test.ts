/**
 * aedes-persistence's own abstract suite — the contract every aedes persistence must meet — run against the
 * Redis persistence exactly as the broker configures it, on a local redis-server of the platform's own.
 */
import assert from 'node:assert';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Redis } from 'ioredis';
import { createLogger, startRedisServer, type LocalRedis } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import { createRedisPersistence } from '../src/redis-persistence.js';

const require = createRequire(import.meta.url);
type AbstractTest = (name: string, body: (t: AbstractContext) => Promise<void>) => void;
interface AbstractContext {
  plan(count: number): void;
  diagnostic(message: string): void;
  assert: Pick<typeof assert, 'equal' | 'notEqual' | 'deepEqual' | 'ok'>;
}
const abstractSuite = require('aedes-persistence/abstract.js') as (options: { test: AbstractTest; persistence: () => Promise<unknown>; testAsync: boolean }) => void;

const dir = tempDir('city-redis-abstract-');
let redis: LocalRedis;
let admin: Redis;

beforeAll(async () => {
  redis = await startRedisServer({ dataDir: dir.path, port: 0, logger: createLogger('test', 'silent') });
  admin = new Redis(redis.url);
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
  dir.cleanup();
});

/** node:test's `t` as the suite uses it, over node:assert; a plan is checked when the test ends. */
const vitestAdapter: AbstractTest = (name, body) => {
  it(name, async () => {
    let planned: number | undefined;
    let made = 0;
    const counted =
      <A extends unknown[]>(check: (...args: A) => void) =>
      (...args: A) => {
        made++;
        check(...args);
      };
    await body({
      plan: (count) => (planned = count),
      diagnostic: () => undefined,
      assert: { equal: counted(assert.equal), notEqual: counted(assert.notEqual), deepEqual: counted(assert.deepEqual), ok: counted(assert.ok) },
    });
    if (planned !== undefined) assert.equal(made, planned, `planned ${planned} assertions, made ${made}`);
  });
};

describe('the broker persistence on Redis passes aedes-persistence’s abstract suite', () => {
  abstractSuite({
    test: vitestAdapter,
    testAsync: true,
    persistence: async () => {
      await admin.flushdb();
      return createRedisPersistence(redis.url, 1000, createLogger('test', 'silent')).persistence;
    },
  });
});
