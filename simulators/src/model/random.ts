/**
 * Deterministic randomness: every value the simulator draws is a pure function of the seed, a key
 * (a device id, a day) and a position in time, so the same seed replays the same city, live or backfilled.
 */

/** 32-bit FNV-1a, to turn keys into seeds. */
export function hashKey(...parts: (string | number)[]): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    const text = String(part);
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    hash ^= 0x2f;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A uniform number in [0, 1) for the given key. */
export function uniform(...parts: (string | number)[]): number {
  let x = hashKey(...parts);
  // mulberry32 finaliser: spreads neighbouring keys over the whole range.
  x = Math.imul(x ^ (x >>> 15), x | 1);
  x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
}

/** Approximately normal (mean 0, sd 1), from the sum of uniforms: bounded, which suits sensor noise. */
export function gaussian(...parts: (string | number)[]): number {
  let sum = 0;
  for (let i = 0; i < 6; i++) sum += uniform(...parts, i);
  return (sum - 3) * Math.SQRT2;
}

/**
 * Smooth noise in time: values at whole `periodMs` steps, interpolated between, so that a sensor drifts
 * rather than jumping at every reading.
 */
export function smoothNoise(t: number, periodMs: number, ...parts: (string | number)[]): number {
  const step = Math.floor(t / periodMs);
  const f = t / periodMs - step;
  const a = gaussian(...parts, step);
  const b = gaussian(...parts, step + 1);
  const s = f * f * (3 - 2 * f);
  return a + (b - a) * s;
}
