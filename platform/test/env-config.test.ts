import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../src/env-config.js';

const Schema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 1883 }),
  URL: Type.String({ pattern: '^mqtts?://' }),
  FLAG: Type.Boolean({ default: false }),
});

describe('readConfig', () => {
  it('converts strings, applies defaults and ignores empty values', () => {
    expect(readConfig(Schema, { URL: 'mqtt://x', PORT: '', FLAG: 'true' })).toEqual({ PORT: 1883, URL: 'mqtt://x', FLAG: true });
  });

  it('names every variable that is wrong', () => {
    expect(() => readConfig(Schema, { PORT: 'seventy', URL: 'http://x' })).toThrow(ConfigError);
    expect(() => readConfig(Schema, { PORT: '70000' })).toThrow(/PORT[\s\S]*URL/);
  });
});
