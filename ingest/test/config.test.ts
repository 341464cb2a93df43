import { describe, expect, it } from 'vitest';
import { ConfigError } from '@city/platform';
import { readIngestConfig } from '../src/config.js';

const base = { MQTT_SERVICE_SECRET: 'a-service-secret-of-some-length' };

describe('ingest configuration', () => {
  it('refuses some but not all of INFLUX_TOKEN, INFLUX_ORG and INFLUX_BUCKET, naming the missing ones', () => {
    const read = () => readIngestConfig({ ...base, INFLUX_TOKEN: 't0ken', INFLUX_ORG: 'city-org' });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/INFLUX_BUCKET: missing/);
    expect(() => readIngestConfig({ ...base, INFLUX_BUCKET: 'city' })).toThrow(/INFLUX_TOKEN, INFLUX_ORG: missing/);
  });

  it('takes all three, or none', () => {
    expect(readIngestConfig({ ...base, INFLUX_TOKEN: 't0ken', INFLUX_ORG: 'city-org', INFLUX_BUCKET: 'city' })).toMatchObject({ INFLUX_BUCKET: 'city' });
    expect(readIngestConfig(base).INFLUX_TOKEN).toBeUndefined();
  });
});
