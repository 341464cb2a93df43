/**
 * The stream's messages as schemas: OpenAPI 3.0 cannot describe a WebSocket, so the stream route documents
 * them as the body of its 101 answer, which is where a reader of `/docs` looks for them.
 */
import { Type } from '@sinclair/typebox';
import { DEVICE_KINDS } from '@city/devices';
import { IncidentSchema, literalUnion } from '../incidents/model.js';

const StreamDevice = Type.Object(
  {
    id: Type.String(),
    kind: Type.Union(DEVICE_KINDS.map((kind) => Type.Literal(kind))),
    zone: Type.String(),
    lon: Type.Number(),
    lat: Type.Number(),
    presence: literalUnion(['online', 'offline', 'unknown']),
    readingTs: Type.Union([Type.Integer(), Type.Null()], { description: 'epoch ms of the reading' }),
    reading: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: "the latest reading, the kind's metrics" }),
    derived: Type.Record(Type.String(), Type.Unknown(), { description: 'aqi, aqiCategory, aqiPollutant, congestion, flood, occupancy — as the kind has them' }),
    segment: Type.Union([Type.String(), Type.Null()]),
    fault: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'streetlights only: offline or lamp_failure' })),
  },
  { description: 'A device as the console needs it on each update (names and attributes come with the layers)' },
);

const Segments = Type.Record(Type.String(), Type.Unknown(), {
  description: 'road segment id → {id, sensors, reporting, averageVehicleSpeed, intensity, occupancy, congestion, updatedAt}',
});

export const StreamSnapshot = Type.Object(
  {
    type: Type.Literal('snapshot'),
    ts: Type.Integer({ description: 'epoch ms' }),
    devices: Type.Array(StreamDevice),
    segments: Segments,
    incidents: Type.Array(IncidentSchema, { description: 'open and acknowledged' }),
  },
  { description: 'The first message: everything as it is now' },
);

export const StreamDelta = Type.Object(
  {
    type: Type.Literal('delta'),
    ts: Type.Integer({ description: 'epoch ms' }),
    devices: Type.Array(StreamDevice, { description: 'devices that changed since the last message, in their latest state' }),
    removed: Type.Array(Type.String(), { description: 'ids of devices removed from the registry' }),
    segments: Segments,
    incidents: Type.Array(IncidentSchema, { description: 'incidents that opened, changed or closed, in their latest state' }),
  },
  { description: 'At most one a second, only when something changed; a slow client skips deltas and gets the latest state once it drains' },
);
