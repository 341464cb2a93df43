/** `GET /api/v1/audit` (admin): who changed what and when — users, incidents and devices in one list. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { DeviceRegistry } from '@city/devices';
import type { AuditLog } from './audit.js';

const Entry = Type.Object({ at: Type.Integer(), actor: Type.String(), action: Type.String(), target: Type.String(), detail: Type.Unknown() });

export function auditRoutes(deps: { audit: AuditLog; registry: DeviceRegistry }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/audit',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['users'],
          summary: 'The audit trail, newest first; device changes made outside the api (CLI, simulator) are included',
          querystring: Type.Object({
            from: Type.Optional(Type.Integer({ description: 'epoch ms' })),
            to: Type.Optional(Type.Integer({ description: 'epoch ms' })),
            actor: Type.Optional(Type.String({ maxLength: 80 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 500 })),
          }),
          response: { 200: Type.Array(Entry) },
        },
      },
      async (request) => {
        const { from, to, actor, limit = 500 } = request.query;
        const own = deps.audit.list({ from, to, actor, limit });
        // Device changes made through the api are in both logs; the registry's copy is kept for the others.
        const devices = deps.registry
          .audit()
          .filter((entry) => !entry.actor.startsWith('api:') && (from === undefined || entry.at >= from) && (to === undefined || entry.at < to) && (actor === undefined || entry.actor === actor))
          .map((entry) => ({ at: entry.at, actor: entry.actor, action: `device.${entry.action}`, target: entry.deviceId, detail: entry.detail ? (JSON.parse(entry.detail) as unknown) : null }));
        return [...own.map(({ at, actor: who, action, target, detail }) => ({ at, actor: who, action, target, detail })), ...devices]
          .sort((a, b) => b.at - a.at)
          .slice(0, limit);
      },
    );
  };
}
