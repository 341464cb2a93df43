import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, startInfluxd, type LocalInfluxd, influxQuery } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import { escapeTag, LineProtocolError, quoteStringField, toLine } from '../src/line-protocol.js';
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

  it('refuses line breaks and backslashes wherever device input lands in the line', () => {
    const reading = { ts: 1, values: { LAeq: 1, LAmax: 2 } };
    for (const id of ['a\nnoise,device_id=x LAeq=1 1', 'a\rb', 'back\\slash']) {
      expect(() => toLine('noise', id, 'z', reading)).toThrow(LineProtocolError);
      expect(() => toLine('noise', 'n', id, reading)).toThrow(LineProtocolError);
    }
    expect(() => toLine('streetlight', 's', 'z', { ts: 1, values: { powerState: 'on"\nstreetlight,device_id=x powerState="off' } })).toThrow(LineProtocolError);
  });

  it('keeps each series key apart when it is reused: a moved device, an escaped id, a refused one', () => {
    const reading = { ts: 1, values: { LAeq: 1 } };
    expect(toLine('noise', 'n 1', 'a', reading)).toBe('noise,device_id=n\\ 1,zone=a LAeq=1 1');
    expect(toLine('noise', 'n 1', 'a', reading)).toBe('noise,device_id=n\\ 1,zone=a LAeq=1 1');
    expect(toLine('noise', 'n 1', 'b', reading)).toBe('noise,device_id=n\\ 1,zone=b LAeq=1 1');
    expect(toLine('air_quality', 'n 1', 'b', { ts: 1, values: { pm25: 1 } })).toBe('air_quality,device_id=n\\ 1,zone=b pm25=1 1');
    for (let i = 0; i < 2; i++) expect(() => toLine('noise', 'bad\\', 'a', reading)).toThrow(LineProtocolError);
  });

  it('refuses a value of the wrong type rather than poisoning the batch', () => {
    expect(() => toLine('parking', 'p', 'z', { ts: 1, values: { occupiedSpotNumber: 1.5, totalSpotNumber: 2 } })).toThrow(LineProtocolError);
    expect(() => toLine('parking', 'p', 'z', { ts: 1, values: { occupiedSpotNumber: 2 ** 60, totalSpotNumber: 2 } })).toThrow(LineProtocolError);
    expect(() => toLine('traffic', 't', 'z', { ts: 1, values: { congested: 'false' } })).toThrow(LineProtocolError);
    expect(() => toLine('streetlight', 's', 'z', { ts: 1, values: { powerState: 1 } })).toThrow(LineProtocolError);
    expect(() => toLine('noise', 'n', 'z', { ts: 1, values: { LAeq: Number.POSITIVE_INFINITY } })).toThrow(LineProtocolError);
    expect(() => toLine('noise', 'n', 'z', { ts: 1.5, values: { LAeq: 1 } })).toThrow(LineProtocolError);
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

  it('stores floats that JavaScript prints in exponent form as the same numbers', async () => {
    const values = [1e-7, -1.5e-10, 1e21, 5e-324, 1.7976931348623157e308, -0, 0.1 + 0.2];
    const lines = values.map((LAeq, i) => toLine('noise', 'exp', 'z', { ts: 1_600_000_000_000 + i, values: { LAeq } }));
    expect(lines[2]).toContain('LAeq=1e+21 ');
    await influxQuery(influx.url, undefined, 'CREATE DATABASE "lp_floats"');
    await new V1Writer({ url: influx.url, db: 'lp_floats', rp: 'autogen' }).write(lines);
    const rows = await influxQuery(influx.url, 'lp_floats', 'SELECT "LAeq" FROM "noise"');
    expect(rows.map((row) => row.LAeq)).toEqual(values.map((value) => (Object.is(value, -0) ? 0 : value)));
  });

  it('stores a hostile string field value as itself', async () => {
    const value = 'on" ,injected=1 \\';
    await new V1Writer({ url: influx.url, db: 'lp', rp: 'raw' }).write([`probe,device_id=p text=${quoteStringField(value)} 1`]);
    const rows = await influxQuery(influx.url, 'lp', 'SELECT "text" FROM "probe"');
    expect(rows.map((row) => row.text)).toEqual([value]);
  });
});
