import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, startInfluxd, type LocalInfluxd } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import { escapeTag, LineProtocolError, quoteStringField, toLine } from '../src/line-protocol.js';
import { influxQuery } from '../src/influxql.js';
import { V1Writer } from '../src/influx-writer.js';

describe('line protocol', () => {
  it('writes one point per reading with sorted tags, typed fields and ms timestamps', () => {
    expect(toLine('traffic', 'dn-1', 'hai-chau', { ts: 1_700_000_000_000, values: { intensity: 1200, averageVehicleSpeed: 31.5, occupancy: 0.25, congested: false } })).toBe(
      'traffic,device_id=dn-1,zone=hai-chau intensity=1200,averageVehicleSpeed=31.5,occupancy=0.25,congested=false 1700000000000',
    );
    expect(toLine('parking', 'p-1', 'son-tra', { ts: 1, values: { occupiedSpotNumber: 12, totalSpotNumber: 40 } })).toBe(
      'parking,device_id=p-1,zone=son-tra occupiedSpotNumber=12i,totalSpotNumber=40i 1',
    );
    expect(toLine('streetlight', 's-1', 'son-tra', { ts: 1, values: { powerState: 'low' } })).toBe('streetlight,device_id=s-1,zone=son-tra powerState="low" 1');
  });

  it('escapes what would end a tag or a string and refuses line breaks, which cannot be escaped', () => {
    expect(escapeTag('a b,c=d')).toBe('a\\ b\\,c\\=d');
    expect(() => escapeTag('trailing\\')).toThrow(LineProtocolError);
    expect(quoteStringField('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(() => escapeTag('a\nb')).toThrow(LineProtocolError);
    expect(() => escapeTag('a\rb')).toThrow(LineProtocolError);
    expect(() => escapeTag('')).toThrow(LineProtocolError);
    expect(() => quoteStringField('on\ntraffic value=1')).toThrow(LineProtocolError);
    expect(() => toLine('noise', 'n', 'z', { ts: 1, values: { LAeq: Number.NaN } })).toThrow(LineProtocolError);
    expect(() => toLine('noise', 'n', 'z', { ts: 1, values: { 'LAeq=1 evil': 1 } })).toThrow(LineProtocolError);
  });
});

describe('line protocol against a real InfluxDB', () => {
  let dir: ReturnType<typeof tempDir>;
  let influx: LocalInfluxd;

  beforeAll(async () => {
    dir = tempDir('city-lp-');
    influx = await startInfluxd({ dataDir: dir.path, httpPort: 0, logger: createLogger('test', 'silent') });
    await influxQuery(influx.url, undefined, 'CREATE DATABASE "lp"');
    await influxQuery(influx.url, 'lp', 'CREATE RETENTION POLICY "raw" ON "lp" DURATION 0s REPLICATION 1 DEFAULT');
  });

  afterAll(async () => {
    await influx?.stop();
    dir?.cleanup();
  });

  it('stores hostile tag values as themselves: no extra points, series, tags or fields', async () => {
    const hostileIds = ['a b', 'a,zone=evil', 'a=b', 'quote"d', "it's", 'trailing ', ' leading', 'emoji-🚦'];
    const lines = hostileIds.map((id, i) => toLine('noise', id, 'zone with, commas=and spaces', { ts: 1_700_000_000_000 + i, values: { LAeq: i, LAmax: 1e-7 } }));
    await new V1Writer({ url: influx.url, db: 'lp', rp: 'raw' }).write(lines);

    const series = (await influxQuery(influx.url, 'lp', 'SHOW SERIES')).map((row) => row.key);
    expect(series).toHaveLength(hostileIds.length);
    const tags = await influxQuery(influx.url, 'lp', 'SHOW TAG VALUES FROM "noise" WITH KEY = "device_id"');
    expect(tags.map((row) => row.value).sort()).toEqual([...hostileIds].sort());
    expect((await influxQuery(influx.url, 'lp', 'SHOW TAG KEYS')).map((row) => row.tagKey).sort()).toEqual(['device_id', 'zone']);
    expect((await influxQuery(influx.url, 'lp', 'SHOW FIELD KEYS')).map((row) => row.fieldKey).sort()).toEqual(['LAeq', 'LAmax']);
    expect((await influxQuery(influx.url, 'lp', 'SHOW MEASUREMENTS')).map((row) => row.name)).toEqual(['noise']);
    const zones = await influxQuery(influx.url, 'lp', 'SHOW TAG VALUES FROM "noise" WITH KEY = "zone"');
    expect(zones.map((row) => row.value)).toEqual(['zone with, commas=and spaces']);
    const rows = await influxQuery(influx.url, 'lp', 'SELECT count("LAmax") FROM "noise"');
    expect(rows[0]?.count).toBe(hostileIds.length);
  });

  it('stores a hostile string field value as itself', async () => {
    const value = 'on" ,injected=1 \\';
    await new V1Writer({ url: influx.url, db: 'lp', rp: 'raw' }).write([`probe,device_id=p text=${quoteStringField(value)} 1`]);
    const rows = await influxQuery(influx.url, 'lp', 'SELECT "text" FROM "probe"');
    expect(rows.map((row) => row.text)).toEqual([value]);
  });
});
