/** `GET /api/v1/layers/:layer`: one GeoJSON FeatureCollection per map layer, from live state. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorResponse } from '../errors.js';
import { LAYERS, buildLayer, type LayerSources } from './features.js';

export const FeatureCollectionSchema = Type.Object(
  {
    type: Type.Literal('FeatureCollection'),
    features: Type.Array(
      Type.Object({
        type: Type.Literal('Feature'),
        id: Type.String(),
        geometry: Type.Object({ type: Type.String(), coordinates: Type.Unknown() }),
        properties: Type.Record(Type.String(), Type.Unknown()),
      }),
    ),
  },
  { description: 'GeoJSON (RFC 7946), WGS84 lon/lat' },
);

export function layerRoutes(sources: LayerSources): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/layers',
      { config: { access: 'viewer' }, schema: { tags: ['map'], summary: 'The map layers there are', response: { 200: Type.Array(Type.String()) } } },
      async () => [...LAYERS],
    );

    app.get(
      '/api/v1/layers/:layer',
      {
        config: { access: 'viewer' },
        schema: {
          tags: ['map'],
          summary: 'A map layer as GeoJSON, built from live state',
          description:
            'traffic: road segments with current speed, intensity, occupancy and congestion; environment: air-quality stations (VN_AQI, its category colour) and noise meters; ' +
            'flood: water-level sensors with their alert level; parking: occupancy; streetlights: power state and faults; incidents: open and acknowledged incidents; zones: outlines with a live summary.',
          params: Type.Object({ layer: Type.Union(LAYERS.map((layer) => Type.Literal(layer))) }),
          response: { 200: FeatureCollectionSchema, 400: ErrorResponse },
        },
      },
      async (request) => buildLayer(request.params.layer, sources),
    );
  };
}
