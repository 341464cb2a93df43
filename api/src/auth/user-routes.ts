/** User administration (admin only). Every change is audited; a role change or disabling ends the user's sessions. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuditLog } from '../audit.js';
import { ApiError, ErrorResponse, notFound } from '../errors.js';
import { ROLES } from './roles.js';
import type { SessionStore } from './sessions.js';
import { MIN_PASSWORD_LENGTH, USERNAME_PATTERN, type UserStore } from './users.js';

const RoleSchema = Type.Union(ROLES.map((role) => Type.Literal(role)));
const UserSchema = Type.Object({
  username: Type.String(),
  role: RoleSchema,
  displayName: Type.Union([Type.String(), Type.Null()]),
  disabled: Type.Boolean(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});
const Password = Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: 256 });
const Params = Type.Object({ username: Type.String({ pattern: USERNAME_PATTERN }) });

export function userRoutes(deps: { users: UserStore; sessions: SessionStore; audit: AuditLog }): FastifyPluginAsyncTypebox {
  return async (app) => {
    const admin = { access: 'admin' as const };

    app.get('/api/v1/users', { config: admin, schema: { tags: ['users'], summary: 'List users', response: { 200: Type.Array(UserSchema) } } }, async () =>
      deps.users.list(),
    );

    app.post(
      '/api/v1/users',
      {
        config: admin,
        schema: {
          tags: ['users'],
          summary: 'Create a user',
          body: Type.Object({
            username: Type.String({ pattern: USERNAME_PATTERN, description: 'lower-case letters, digits, . _ -' }),
            role: RoleSchema,
            password: Password,
            displayName: Type.Optional(Type.String({ maxLength: 100 })),
          }),
          response: { 201: UserSchema, 409: ErrorResponse },
        },
      },
      async (request, reply) => {
        const user = await deps.users.create(request.body);
        deps.audit.record(request.user?.username ?? 'unknown', 'user.create', user.username, { role: user.role });
        return reply.code(201).send(user);
      },
    );

    app.patch(
      '/api/v1/users/:username',
      {
        config: admin,
        schema: {
          tags: ['users'],
          summary: 'Change a user: role, password, display name, disabled',
          params: Params,
          body: Type.Object(
            { role: Type.Optional(RoleSchema), password: Type.Optional(Password), displayName: Type.Optional(Type.String({ maxLength: 100 })), disabled: Type.Optional(Type.Boolean()) },
            { minProperties: 1 },
          ),
          response: { 200: UserSchema, 404: ErrorResponse },
        },
      },
      async (request) => {
        const { username } = request.params;
        const actor = request.user?.username ?? 'unknown';
        if (username === actor && (request.body.role !== undefined && request.body.role !== 'admin' || request.body.disabled)) {
          throw new ApiError(409, 'last_admin', 'an admin cannot demote or disable themselves; ask another admin');
        }
        const user = await deps.users.update(username, request.body);
        if (request.body.role !== undefined || request.body.disabled || request.body.password !== undefined) deps.sessions.revokeUser(username);
        const { password, ...changed } = request.body;
        deps.audit.record(actor, 'user.update', username, { ...changed, ...(password !== undefined ? { password: 'changed' } : {}) });
        return user;
      },
    );

    app.delete(
      '/api/v1/users/:username',
      { config: admin, schema: { tags: ['users'], summary: 'Delete a user', params: Params, response: { 204: Type.Null(), 404: ErrorResponse, 409: ErrorResponse } } },
      async (request, reply) => {
        const { username } = request.params;
        if (username === request.user?.username) throw new ApiError(409, 'last_admin', 'an admin cannot delete themselves');
        if (!deps.users.remove(username)) throw notFound(`user ${username} does not exist`);
        // The database drops the sessions with the user; this tells their open streams.
        deps.sessions.revokeUser(username);
        deps.audit.record(request.user?.username ?? 'unknown', 'user.delete', username);
        return reply.code(204).send(null);
      },
    );
  };
}
