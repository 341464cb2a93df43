import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateServiceSecret } from '../src/service-secret.js';
import { tempDir } from '../src/testing/temp-dir.js';

describe('service secret', () => {
  it('is generated once, readable only by its owner, and the same on every later start', () => {
    const dir = tempDir('city-secret-');
    const file = join(dir.path, 'nested', 'service-secret');
    const first = loadOrCreateServiceSecret(file);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateServiceSecret(file)).toBe(first);
    dir.cleanup();
  });
});
