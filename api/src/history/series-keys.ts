/**
 * What a history request aggregates: a device, a zone (every device of the kind in it) or a road
 * segment (the devices on it). Each parameter takes one id or a comma-separated list, one series per id.
 */
import { DEVICE_ID_PATTERN } from '@city/devices';
import { badRequest, notFound } from '../errors.js';
import { tagIn } from './query.js';

export const KEY_NAMES = ['device', 'zone', 'segment'] as const;
export type KeyName = (typeof KEY_NAMES)[number];

export const MAX_SERIES = 20;

export interface SeriesKey {
  name: KeyName;
  id: string;
  /** The tag condition selecting its devices; undefined when it has none (a segment without sensors). */
  condition: string | undefined;
}

export type KeyQuery = Partial<Record<KeyName, string>>;

export function seriesKeys(query: KeyQuery, devicesOnSegment: (segmentId: string) => string[] | undefined): SeriesKey[] {
  const given = KEY_NAMES.filter((name) => query[name] !== undefined);
  if (given.length !== 1) {
    throw badRequest('invalid_input', `device, zone, segment: give exactly one of them${given.length ? ` (got ${given.join(' and ')})` : ''}`);
  }
  const name = given[0] as KeyName;
  const ids = [...new Set((query[name] as string).split(','))];
  if (ids.length > MAX_SERIES) throw badRequest('invalid_input', `${name}: at most ${MAX_SERIES} ids at once, got ${ids.length}`);
  for (const id of ids) {
    if (!DEVICE_ID_PATTERN.test(id)) {
      throw badRequest('invalid_input', `${name}: '${id}' is not an id (1–64 of A–Z a–z 0–9 _ . -, starting with a letter or digit)`);
    }
  }
  return ids.map((id) => ({ name, id, condition: condition(name, id, devicesOnSegment) }));
}

function condition(name: KeyName, id: string, devicesOnSegment: (segmentId: string) => string[] | undefined): string | undefined {
  if (name === 'device') return tagIn('device_id', [id]);
  if (name === 'zone') return tagIn('zone', [id]);
  const devices = devicesOnSegment(id);
  if (devices === undefined) throw notFound(`segment: there is no road segment '${id}'`);
  return devices.length > 0 ? tagIn('device_id', devices) : undefined;
}
