/** Device secrets: random, shown once, stored only as a salted scrypt hash. */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * A low work factor on purpose: the secrets are 256 random bits, so no amount of hashing cost adds to
 * what an attacker must guess, while 15,000 devices reconnecting after a broker restart must each be
 * verified once (≈1 ms here at N = 1024, against ≈18 ms at 16384). Stored hashes carry their own N.
 */
export const SCRYPT_COST = { N: 1024, r: 8, p: 1 } as const;
/** People choose guessable passwords, so theirs take the full work factor (≈18 ms here). */
export const PASSWORD_SCRYPT_COST = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function scrypt(secret: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(secret, salt, KEY_LENGTH, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Encoded as `scrypt$N$r$p$salt$hash` so that the cost can be raised later without breaking old hashes. */
export async function hashSecret(secret: string, cost: ScryptOptions & { N: number; r: number; p: number } = SCRYPT_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** A malformed stored hash verifies nothing rather than throwing: authentication fails closed. */
export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = encoded.split('$');
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (scheme !== 'scrypt' || !salt || !hash || !Object.values(cost).every((value) => Number.isSafeInteger(value) && value > 0)) {
    return false;
  }
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(secret, Buffer.from(salt, 'base64'), cost).catch(() => undefined);
  return key !== undefined && key.length === expected.length && timingSafeEqual(key, expected);
}
