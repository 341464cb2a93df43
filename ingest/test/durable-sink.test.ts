import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, startInfluxd, type LocalInfluxd, influxQuery } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import { DurableSink } from '../src/durable-sink.js';
import { V1Writer } from '../src/influx-writer.js';
import { createIngestMetrics } from '../src/metrics.js';
import { Spool } from '../src/spool.js';

describe('DurableSink', () => {
  let dir: ReturnType<typeof tempDir>;
  let influx: LocalInfluxd;

  beforeAll(async () => {
    dir = tempDir('city-sink-');
    influx = await startInfluxd({ dataDir: dir.path, httpPort: 0, logger: createLogger('test', 'silent') });
    await influxQuery(influx.url, undefined, 'CREATE DATABASE "city"');
  });

  afterAll(async () => {
    await influx?.stop();
    dir?.cleanup();
  });

  it('sets a batch InfluxDB refuses aside in the dead-letter folder, and writes none of it', async () => {
    const metrics = createIngestMetrics(new Registry());
    const spool = await Spool.open(join(dir.path, 'spool'), { maxBytes: 1 << 20 });
    const deadLetterDir = join(dir.path, 'dead-letter');
    const sink = new DurableSink({ writer: new V1Writer({ url: influx.url, db: 'city', rp: 'autogen' }), spool, deadLetterDir, logger: createLogger('test', 'silent'), metrics });
    const ts = Date.now();
    await sink.persist([`traffic,device_id=a intensity=1 ${ts}`]);
    const refused = [`traffic,device_id=a intensity="many" ${ts + 1}`, `traffic,device_id=a intensity="more" ${ts + 2}`];
    await sink.persist(refused);
    await spool.close();

    const files = readdirSync(deadLetterDir);
    expect(files).toHaveLength(1);
    expect(readFileSync(join(deadLetterDir, files[0] as string), 'utf8')).toBe(`${refused.join('\n')}\n`);
    expect((await metrics.deadLettered.get()).values[0]?.value).toBe(2);
    expect(spool.depth().records).toBe(0);
    expect((await influxQuery(influx.url, 'city', 'SELECT count(intensity) FROM traffic'))[0]?.count).toBe(1);
  });

  it('stops reporting a full spool once InfluxDB takes writes again, even when the spool never held the refused batch', async () => {
    const metrics = createIngestMetrics(new Registry());
    // Smaller than the batch: refused with the spool empty, so no replay will ever drain anything.
    const spool = await Spool.open(join(dir.path, 'spool-tiny'), { maxBytes: 64 });
    const sink = new DurableSink({ writer: new V1Writer({ url: influx.url, db: 'city', rp: 'autogen' }), spool, deadLetterDir: join(dir.path, 'dead-letter-tiny'), logger: createLogger('test', 'silent'), metrics });
    const ts = Date.now();
    const batch = Array.from({ length: 10 }, (_, i) => `traffic,device_id=tiny intensity=${i} ${ts + i}`);
    await influx.stop();
    await expect(sink.persist(batch)).rejects.toThrow();
    expect((await metrics.spoolFull.get()).values[0]?.value).toBe(1);
    expect(spool.depth().records).toBe(0);
    await influx.restart();
    await sink.replayOnce();
    await sink.persist(batch);
    expect((await metrics.spoolFull.get()).values[0]?.value).toBe(0);
    await spool.close();
  });
});
