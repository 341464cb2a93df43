/**
 * Reading configuration from the environment, validated once per service against a TypeBox schema,
 * so that a typo in a variable fails at start with a message naming the variable.
 */
import { Value } from '@sinclair/typebox/value';
import type { Static, TObject } from '@sinclair/typebox';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function readConfig<T extends TObject>(schema: T, env: NodeJS.ProcessEnv = process.env): Static<T> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const converted = Value.Convert(schema, Value.Default(schema, raw));
  const errors = [...Value.Errors(schema, converted)];
  if (errors.length > 0) {
    const lines = errors.map((e) => `${e.path.replace(/^\//, '') || '(config)'}: ${e.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return converted as Static<T>;
}
