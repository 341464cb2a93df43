/**
 * What a stream client follows: a detail panel one device, a district's wall screen one zone, an integration one
 * kind of sensor. A client that follows a few quiet devices gets each of their changes the moment it arrives:
 * the once-a-second pace only holds back a change that comes within a second of the client's last message, and
 * the rest of the city no longer sends it messages.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DEVICE_ID_PATTERN, DEVICE_KINDS, isDeviceKind, ZONE_ID_PATTERN } from '@city/devices';
import type { LiveDevice } from '../live/types.js';

/** More ids than this is following most of a district: a zone or a kind says it in one word. */
export const MAX_FOLLOWED = 200;

/** `a,b,c` of at most MAX_FOLLOWED items, each matching `item` (an anchored pattern). */
function listOf(item: RegExp): string {
  const one = item.source.replace(/^\^/, '').replace(/\$$/, '');
  return `^(${one})(,(${one})){0,${MAX_FOLLOWED - 1}}$`;
}

export const StreamQuery = Type.Object({
  access_token: Type.Optional(Type.String({ description: 'the bearer token, for clients that cannot send Authorization' })),
  devices: Type.Optional(
    Type.String({ pattern: listOf(DEVICE_ID_PATTERN), maxLength: MAX_FOLLOWED * 65, description: `follow only these devices: ids separated by commas, at most ${MAX_FOLLOWED}` }),
  ),
  zones: Type.Optional(Type.String({ pattern: listOf(ZONE_ID_PATTERN), maxLength: MAX_FOLLOWED * 65, description: 'follow only devices in these zones: zone ids separated by commas' })),
  kinds: Type.Optional(Type.String({ pattern: listOf(new RegExp(`^(${DEVICE_KINDS.join('|')})$`)), description: `follow only these kinds of device: ${DEVICE_KINDS.join(', ')}` })),
});
export type StreamQuery = Static<typeof StreamQuery>;

/**
 * A clear answer for a kind the city does not have (`?kinds=flood`), ahead of the schema's, which can only show its
 * pattern; undefined when every kind named is known.
 */
export function unknownKindsMessage(kinds: unknown): string | undefined {
  if (typeof kinds !== 'string') return undefined;
  const unknown = kinds.split(',').filter((kind) => !isDeviceKind(kind));
  if (unknown.length === 0) return undefined;
  return `querystring/kinds: unknown kind ${unknown.map((kind) => JSON.stringify(kind)).join(', ')}; the kinds are ${DEVICE_KINDS.join(', ')}`;
}

/** What an incident carries that says where it belongs. */
export interface Placed {
  deviceId?: string | undefined;
  zone?: string | undefined;
}

export interface StreamFilter {
  device(device: LiveDevice): boolean;
  /** An incident about a device goes with that device; one about a road or a place goes by its zone, to a client that follows zones only. */
  incident(incident: Placed, deviceOf: (id: string) => LiveDevice | undefined): boolean;
}

/** Undefined when the client follows the whole city. Criteria given together must all hold. */
export function streamFilter(query: StreamQuery): StreamFilter | undefined {
  const devices = setOf(query.devices);
  const zones = setOf(query.zones);
  const kinds = setOf(query.kinds);
  if (!devices && !zones && !kinds) return undefined;
  const device = (candidate: LiveDevice) =>
    (!devices || devices.has(candidate.id)) && (!zones || zones.has(candidate.zone)) && (!kinds || kinds.has(candidate.kind));
  return {
    device,
    incident(incident, deviceOf) {
      const subject = incident.deviceId === undefined ? undefined : deviceOf(incident.deviceId);
      if (subject) return device(subject);
      return !devices && !kinds && zones !== undefined && incident.zone !== undefined && zones.has(incident.zone);
    },
  };
}

function setOf(list: string | undefined): Set<string> | undefined {
  return list === undefined ? undefined : new Set(list.split(','));
}
