import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** `inc-` and a ULID (48-bit time, 80 random bits, Crockford base32): ids sort by creation time. */
export function newIncidentId(at: number): string {
  let time = '';
  let rest = Math.max(0, Math.floor(at));
  for (let i = 0; i < 10; i += 1) {
    time = CROCKFORD.charAt(rest % 32) + time;
    rest = Math.floor(rest / 32);
  }
  const random = [...randomBytes(16)].map((byte) => CROCKFORD.charAt(byte % 32)).join('');
  return `inc-${time}${random}`;
}
