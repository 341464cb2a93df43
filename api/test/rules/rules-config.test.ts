import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import { KINDS } from '@city/devices';
import { eventRule, loadRulesConfig, longestSilenceMs, offlineRule, type RulesConfig } from '../../src/rules/rules-config.js';

const dir = tempDir('city-rules-config-');
afterAll(() => dir.cleanup());

function loadWith(change: (config: Record<string, unknown> & RulesConfig) => void, knownZones?: string[]): () => RulesConfig {
  const config = loadRulesConfig() as Record<string, unknown> & RulesConfig;
  change(config);
  const path = join(dir.path, 'rules.json');
  writeFileSync(path, JSON.stringify(config));
  return () => loadRulesConfig(path, knownZones);
}

describe('rules.json', () => {
  it('the shipped file holds the defaults of the issue', () => {
    const config = loadRulesConfig();
    expect(config.air_pollution).toMatchObject({ bands: [{ aboveAqi: 150, severity: 'high' }, { aboveAqi: 200, severity: 'critical' }], forSeconds: 600 });
    expect(config.congestion).toMatchObject({ bands: [{ belowSpeedKmh: 10 }, { belowSpeedKmh: 5 }], aboveOccupancy: 0.6, forSeconds: 300 });
    expect(config.flood).toMatchObject({ warningSeverity: 'medium', dangerSeverity: 'critical' });
    expect(config.device_offline).toMatchObject({ severity: 'low', silenceIntervals: 3, burst: { graceSeconds: 120 } });
    expect(config.events.types.accident).toEqual({ category: 'traffic', subCategory: 'carAccident', severity: 'high', subject: 'segment' });
  });

  it.each([
    ['a wrong type', (c: RulesConfig) => void ((c.air_pollution as unknown as Record<string, unknown>).forSeconds = '600'), 'air_pollution/forSeconds'],
    ['an unknown field', (c: RulesConfig) => void ((c.congestion as unknown as Record<string, unknown>).maxSpeed = 10), 'congestion/maxSpeed'],
    ['a missing field', (c: RulesConfig) => void delete (c.flood as Partial<RulesConfig['flood']>).hysteresisMetres, 'flood/hysteresisMetres'],
    ['an unknown severity', (c: RulesConfig) => void ((c.device_offline as unknown as Record<string, unknown>).severity = 'urgent'), 'device_offline/severity'],
    ['bands out of order', (c: RulesConfig) => void c.air_pollution.bands.reverse(), 'air_pollution/bands'],
    ['a zone danger level below its alert level', (c: RulesConfig) => void (c.zones['son-tra'] = { flood: { defaultAlertLevel: 0.5, defaultDangerLevel: 0.3 } }), 'zones/son-tra/flood/defaultDangerLevel'],
    ['a zone override of a wrong type', (c: RulesConfig) => void (c.zones['son-tra'] = { congestion: { forSeconds: -1 } }), 'zones/son-tra/congestion/forSeconds'],
    ['an event type that belongs to a rule', (c: RulesConfig) => void (c.events.types.congestion = c.events.default), 'events/types/congestion'],
    ['a zone event type that belongs to a rule', (c: RulesConfig) => void (c.zones['son-tra'] = { events: { types: { flood_danger: { severity: 'low' } } } }), 'zones/son-tra/events/types/flood_danger'],
    ['a category FIWARE does not have', (c: RulesConfig) => void ((c.events.default as Record<string, unknown>).category = 'other'), 'events/default/category'],
    ['an unknown kind', (c: RulesConfig) => void (c.device_offline.kinds = { bus: { silenceIntervals: 2 } }), 'device_offline/kinds/bus'],
    ['a zone kind override of a wrong type', (c: RulesConfig) => void (c.zones['son-tra'] = { device_offline: { kinds: { noise: { reportingIntervalSeconds: 0 } } } }), 'zones/son-tra/device_offline/kinds/noise/reportingIntervalSeconds'],
  ])('refuses %s, naming the field', (_, change, field) => {
    const load = loadWith(change);
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(field);
  });

  it('applies device_offline overrides per kind, then per zone, then per zone and kind', () => {
    const config = loadWith((c) => {
      c.device_offline.kinds = { noise: { reportingIntervalSeconds: 600 } };
      c.zones['son-tra'] = { device_offline: { silenceIntervals: 2, kinds: { noise: { severity: 'high' } } } };
    })();
    expect(offlineRule(config, 'noise', 'hai-chau')).toEqual({ enabled: true, severity: 'low', silenceIntervals: 3, clearAfterSeconds: 300, reportingIntervalSeconds: 600 });
    expect(offlineRule(config, 'noise', 'son-tra')).toEqual({ enabled: true, severity: 'high', silenceIntervals: 2, clearAfterSeconds: 300, reportingIntervalSeconds: 600 });
    expect(offlineRule(config, 'traffic', 'son-tra')).toMatchObject({ severity: 'low', silenceIntervals: 2, reportingIntervalSeconds: KINDS.traffic.reportingIntervalSeconds });
    const longest = Math.max(3 * 600, ...Object.values(KINDS).map((kind) => 3 * kind.reportingIntervalSeconds)) * 1000;
    expect(longestSilenceMs(config)).toBe(longest);
  });

  it('applies event overrides per kind and zone, to the named type or else to the default', () => {
    const config = loadWith((c) => {
      c.events.kinds = { streetlight: { default: { category: 'security', severity: 'low' } } };
      c.zones['son-tra'] = { events: { types: { accident: { severity: 'critical' } }, kinds: { streetlight: { default: { severity: 'high' } } } } };
    })();
    expect(eventRule(config, 'accident', 'traffic', 'hai-chau')).toEqual({ category: 'traffic', subCategory: 'carAccident', severity: 'high', subject: 'segment' });
    expect(eventRule(config, 'accident', 'traffic', 'son-tra')).toEqual({ category: 'traffic', subCategory: 'carAccident', severity: 'critical', subject: 'segment' });
    expect(eventRule(config, 'lamp_failure', 'streetlight', 'hai-chau')).toEqual({ category: 'security', severity: 'low', subject: 'device' });
    expect(eventRule(config, 'lamp_failure', 'streetlight', 'son-tra')).toEqual({ category: 'security', severity: 'high', subject: 'device' });
    expect(eventRule(config, 'lamp_failure', 'noise', 'son-tra')).toEqual({ severity: 'medium', subject: 'device' });
  });

  it('refuses a misspelt zone when it knows the zones', () => {
    expect(loadWith((c) => void (c.zones['hai-chou'] = {}), ['hai-chau', 'son-tra'])).toThrow('zones/hai-chou: no such zone');
  });

  it('refuses a file that is not JSON or not there', () => {
    const path = join(dir.path, 'broken.json');
    writeFileSync(path, '{ "air_pollution": ');
    expect(() => loadRulesConfig(path)).toThrow(/broken\.json is not JSON/);
    expect(() => loadRulesConfig(join(dir.path, 'missing.json'))).toThrow(/cannot be read/);
  });
});
