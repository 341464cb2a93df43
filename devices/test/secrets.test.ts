import { describe, it, expect } from 'vitest';
import { generateSecret, hashSecret, verifySecret } from '../src/secrets.js';

describe('generateSecret', () => {
  it('gives 32 random bytes as base64url', () => {
    const secrets = new Set(Array.from({ length: 100 }, generateSecret));
    expect(secrets.size).toBe(100);
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    }
  });
});

describe('hashSecret and verifySecret', () => {
  it('encode scrypt with its cost, a 16-byte salt and the hash', async () => {
    const secret = generateSecret();
    const encoded = await hashSecret(secret);
    const [scheme, n, r, p, salt, hash, ...rest] = encoded.split('$');
    expect([scheme, n, r, p]).toEqual(['scrypt', '1024', '8', '1']);
    expect(Buffer.from(salt ?? '', 'base64')).toHaveLength(16);
    expect(Buffer.from(hash ?? '', 'base64').length).toBeGreaterThanOrEqual(32);
    expect(rest).toEqual([]);
    expect(encoded).not.toContain(secret);
  });

  it('salt every hash', async () => {
    const secret = generateSecret();
    expect(await hashSecret(secret)).not.toBe(await hashSecret(secret));
  });

  it('accept the secret and nothing else', async () => {
    const secret = generateSecret();
    const encoded = await hashSecret(secret);
    expect(await verifySecret(secret, encoded)).toBe(true);
    expect(await verifySecret(generateSecret(), encoded)).toBe(false);
    expect(await verifySecret(secret.slice(0, -1), encoded)).toBe(false);
    expect(await verifySecret('', encoded)).toBe(false);
  });

  it('fail closed on a malformed stored hash', async () => {
    const secret = generateSecret();
    const [, , , , salt, hash] = (await hashSecret(secret)).split('$');
    for (const encoded of ['', 'plain', `bcrypt$16384$8$1$${salt}$${hash}`, `scrypt$abc$8$1$${salt}$${hash}`, `scrypt$1000$8$1$${salt}$${hash}`, `scrypt$16384$8$1$${salt}$`]) {
      expect(await verifySecret(secret, encoded)).toBe(false);
    }
  });
});
