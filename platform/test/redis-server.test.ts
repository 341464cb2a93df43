import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createLogger } from '../src/logger.js';
import { startRedisServer } from '../src/redis-server.js';
import { tempDir } from '../src/testing/temp-dir.js';

const dir = tempDir('city-redis-');
afterAll(() => dir.cleanup());

describe('local Redis', () => {
  it('runs from a generated append-only config under the data dir and keeps what was written through a SIGKILL', async () => {
    const redis = await startRedisServer({ dataDir: dir.path, port: 0, logger: createLogger('test', 'silent') });
    const config = readFileSync(join(dir.path, 'redis', 'redis.conf'), 'utf8');
    expect(config).toContain(`port ${redis.port}`);
    expect(config).toContain('bind 127.0.0.1');
    expect(config).toContain('appendfsync always');

    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: null });
    await client.connect();
    await client.set('survives', 'yes');
    redis.kill('SIGKILL');
    await redis.restart();
    expect(await client.get('survives')).toBe('yes');
    client.disconnect();
    await redis.stop();
  });
});
