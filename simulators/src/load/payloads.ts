/** Readings the load generator sends: realistic sizes and values, varied so that compression and caches don't flatter the figures. */
import type { DeviceKind } from '@city/devices';

export const PAYLOAD_MIXES = ['traffic', 'air', 'mixed'] as const;
export type PayloadMix = (typeof PAYLOAD_MIXES)[number];

const MIXED_KINDS: DeviceKind[] = ['traffic', 'air_quality', 'noise', 'water_level', 'parking', 'streetlight'];

export function kindFor(mix: PayloadMix, index: number): DeviceKind {
  if (mix === 'traffic') return 'traffic';
  if (mix === 'air') return 'air_quality';
  return MIXED_KINDS[index % MIXED_KINDS.length] as DeviceKind;
}

/** A reading as a device would build it; the SDK adds `sentAt` when it sends. */
export function readingFor(kind: DeviceKind, ts: number, n: number): Record<string, number | string> {
  const wave = (n % 97) / 97;
  switch (kind) {
    case 'traffic':
      return { ts, intensity: 400 + Math.round(wave * 2000), averageVehicleSpeed: 20 + wave * 30, occupancy: Number((wave * 0.8).toFixed(3)) };
    case 'air_quality':
      return { ts, pm25: 10 + wave * 60, pm10: 20 + wave * 90, no2: 15 + wave * 40, o3: 30 + wave * 50, co: 400 + wave * 800, temperature: 26 + wave * 6, relativeHumidity: 0.7 };
    case 'noise':
      return { ts, LAeq: 50 + wave * 25, LAmax: 65 + wave * 25 };
    case 'water_level':
      return { ts, currentLevel: wave * 0.3, rainfall: wave * 5 };
    case 'parking':
      return { ts, occupiedSpotNumber: Math.round(wave * 100), totalSpotNumber: 100 };
    case 'streetlight':
      return { ts, powerState: 'on', illuminanceLevel: 1, powerConsumption: 120 + wave * 30 };
  }
}

/** The readings' values repeat every 97 messages: the JSON after `ts` is built once per kind and step of that cycle. */
const CYCLE = 97;
const tails = new Map<DeviceKind, string[]>();

function tailsOf(kind: DeviceKind): string[] {
  let known = tails.get(kind);
  if (!known) {
    known = Array.from({ length: CYCLE }, (_, n) => JSON.stringify({ ...readingFor(kind, 0, n), ts: undefined }).slice(1));
    tails.set(kind, known);
  }
  return known;
}

/**
 * A bare connection's payload, with `sentAt` as the device SDK stamps it, so that load exercises the platform's clock
 * check like a real fleet: `JSON.stringify({ sentAt, ...readingFor(kind, ts, n) })`, the same text, for a fraction
 * of the generator's CPU.
 */
export function payloadFor(kind: DeviceKind, ts: number, n: number, sentAt: number): string {
  return `{"sentAt":${sentAt},"ts":${ts},${(tailsOf(kind)[n % CYCLE] as string)}`;
}
