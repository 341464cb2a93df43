/**
 * Roles, each including everything of the one before: a viewer sees the map and the data, an
 * operator also handles incidents, a planner also exports history, an admin also manages users and devices.
 */
export const ROLES = ['viewer', 'operator', 'planner', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a route demands: a role, or `public` for the few that answer anyone (login, health, docs). */
export type Access = Role | 'public';

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function hasRole(held: Role, required: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(required);
}

export interface AuthUser {
  username: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Every /api route declares who may call it; the app refuses to start with one that does not. */
    access?: Access;
  }
  interface FastifyRequest {
    /** The caller, set by the auth plugin on every route that is not public. */
    user: AuthUser | null;
  }
}
