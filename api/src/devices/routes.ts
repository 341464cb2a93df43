/**
 * Devices, on the same registry the broker checks at every CONNECT: a device provisioned here can
 * connect at once, a removed or rotated one is cut off within the broker's revocation sweep.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DEVICE_ID_PATTERN, DEVICE_KINDS, RegistryError, type Device, type DeviceRegistry } from '@city/devices';
import type { AuditLog } from '../audit.js';
import { ApiError, ErrorResponse, notFound } from '../errors.js';
import { deviceFeature } from '../layers/features.js';
import { FeatureCollectionSchema } from '../layers/routes.js';
import type { LiveState } from '../live/live-state.js';

const Kind = Type.Union(DEVICE_KINDS.map((kind) => Type.Literal(kind)));
const Attributes = Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,31}$' }), Type.Union([Type.Number(), Type.String({ maxLength: 200 }), Type.Boolean()]), {
  description: 'e.g. segment (road segment id), alertLevel and dangerLevel (water level, m), totalSpotNumber (parking)',
  maxProperties: 32,
});
const DeviceId = Type.String({ pattern: DEVICE_ID_PATTERN.source });
const DeviceSchema = Type.Object({
  id: Type.String(),
  kind: Kind,
  name: Type.Union([Type.String(), Type.Null()]),
  lon: Type.Number(),
  lat: Type.Number(),
  zone: Type.String(),
  attributes: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});
const LiveDeviceSchema = Type.Composite([
  DeviceSchema,
  Type.Object({
    presence: Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Literal('unknown')]),
    presenceSince: Type.Union([Type.Integer(), Type.Null()]),
    lastSeen: Type.Union([Type.Integer(), Type.Null()]),
    segment: Type.Union([Type.String(), Type.Null()]),
    reading: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    readingTs: Type.Union([Type.Integer(), Type.Null()]),
    derived: Type.Record(Type.String(), Type.Unknown()),
  }),
]);

const STATUS_BY_CODE: Record<string, number> = { duplicate: 409, not_found: 404 };

export function deviceRoutes(deps: { registry: DeviceRegistry; live: LiveState; audit: AuditLog }): FastifyPluginAsyncTypebox {
  const { registry, live, audit } = deps;
  const resync = () => live.syncRegistry(registry.list());
  const registryCall = async <T>(call: () => T | Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof RegistryError) throw new ApiError(STATUS_BY_CODE[error.code] ?? 400, error.code, error.message);
      throw error;
    }
  };
  const withLive = (device: Device) => {
    const state = live.devices.get(device.id);
    return {
      ...device,
      presence: state?.presence ?? 'unknown',
      presenceSince: state?.presenceSince ?? null,
      lastSeen: state?.lastSeen ?? null,
      segment: state?.segment ?? null,
      reading: state?.reading ?? null,
      readingTs: state?.readingTs ?? null,
      derived: (state?.derived ?? {}) as Record<string, unknown>,
    };
  };

  return async (app) => {
    app.get(
      '/api/v1/devices',
      {
        config: { access: 'viewer' },
        schema: {
          tags: ['devices'],
          summary: 'List devices, optionally by kind and zone; ?format=geojson gives a FeatureCollection',
          querystring: Type.Object({ kind: Type.Optional(Kind), zone: Type.Optional(Type.String({ maxLength: 64 })), format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('geojson')])) }),
          response: {
            200: Type.Union([Type.Array(LiveDeviceSchema), FeatureCollectionSchema], {
              description: 'The devices (default), or with format=geojson one Point feature per device, its properties as in the layers plus its attributes',
            }),
            400: ErrorResponse,
          },
        },
      },
      async (request) => {
        const devices = registry.list({ kind: request.query.kind, zone: request.query.zone });
        if (request.query.format === 'geojson') {
          return {
            type: 'FeatureCollection' as const,
            features: devices.map((device) => {
              const state = live.devices.get(device.id);
              const feature = state ? deviceFeature(state) : { type: 'Feature' as const, id: device.id, geometry: { type: 'Point', coordinates: [device.lon, device.lat] }, properties: { ...device } };
              return { ...feature, properties: { ...feature.properties, attributes: device.attributes } };
            }),
          };
        }
        return devices.map(withLive);
      },
    );

    app.get(
      '/api/v1/devices/:id',
      {
        config: { access: 'viewer' },
        schema: { tags: ['devices'], summary: 'One device with its presence, last reading and derived values', params: Type.Object({ id: DeviceId }), response: { 200: LiveDeviceSchema, 404: ErrorResponse } },
      },
      async (request) => {
        const device = registry.get(request.params.id);
        if (!device) throw notFound(`device ${request.params.id} does not exist`);
        return withLive(device);
      },
    );

    app.post(
      '/api/v1/devices',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['devices'],
          summary: 'Provision a device; the answer holds its secret, shown this once',
          body: Type.Object({
            id: DeviceId,
            kind: Kind,
            lon: Type.Number({ minimum: -180, maximum: 180 }),
            lat: Type.Number({ minimum: -90, maximum: 90 }),
            name: Type.Optional(Type.String({ maxLength: 200 })),
            zone: Type.Optional(Type.String({ maxLength: 64, description: 'only when the location is outside every zone' })),
            attributes: Type.Optional(Attributes),
          }),
          response: { 201: Type.Composite([DeviceSchema, Type.Object({ secret: Type.String() })]), 400: ErrorResponse, 409: ErrorResponse },
        },
      },
      async (request, reply) => {
        const actor = request.user?.username ?? 'unknown';
        const { device, secret } = await registryCall(() => registry.add({ ...request.body, actor: `api:${actor}` }));
        audit.record(actor, 'device.add', device.id, { kind: device.kind, zone: device.zone });
        resync();
        return reply.code(201).send({ ...device, secret });
      },
    );

    app.patch(
      '/api/v1/devices/:id',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['devices'],
          summary: "Replace a device's attributes",
          params: Type.Object({ id: DeviceId }),
          body: Type.Object({ attributes: Attributes }),
          response: { 200: DeviceSchema, 404: ErrorResponse },
        },
      },
      async (request) => {
        const actor = request.user?.username ?? 'unknown';
        const device = await registryCall(() => registry.setAttributes(request.params.id, request.body.attributes, `api:${actor}`));
        audit.record(actor, 'device.update', device.id, { attributes: device.attributes });
        resync();
        return device;
      },
    );

    app.post(
      '/api/v1/devices/:id/rotate',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['devices'],
          summary: 'Issue a new secret; the old one stops working (a connected device is cut off within the revocation sweep)',
          params: Type.Object({ id: DeviceId }),
          response: { 200: Type.Object({ id: Type.String(), secret: Type.String() }), 404: ErrorResponse },
        },
      },
      async (request) => {
        const actor = request.user?.username ?? 'unknown';
        const secret = await registryCall(() => registry.rotate(request.params.id, `api:${actor}`));
        audit.record(actor, 'device.rotate', request.params.id);
        return { id: request.params.id, secret };
      },
    );

    app.delete(
      '/api/v1/devices/:id',
      { config: { access: 'admin' }, schema: { tags: ['devices'], summary: 'Remove a device', params: Type.Object({ id: DeviceId }), response: { 204: Type.Null(), 404: ErrorResponse } } },
      async (request, reply) => {
        const actor = request.user?.username ?? 'unknown';
        if (!registry.remove(request.params.id, `api:${actor}`)) throw notFound(`device ${request.params.id} does not exist`);
        audit.record(actor, 'device.remove', request.params.id);
        resync();
        return reply.code(204).send(null);
      },
    );
  };
}
