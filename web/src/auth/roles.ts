import { ROLES, type Role } from '../api/types.js';

/** Roles are cumulative: each holds everything of the ones before it. */
export function hasRole(held: Role, required: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(required);
}
