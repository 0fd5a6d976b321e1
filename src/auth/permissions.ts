import type { Identity } from './auth-strategy.js';

/** The role that may connect to every client's namespaces and call the transaction routes with a JWT; the access-key login's role. */
export const ADMIN_ROLE = 'admin';

/** The permission that grants every other one (the admin session of the auth service holds it). */
export const ALL_PERMISSIONS = '*';

/**
 * The permissions the HTTP API asks of user tokens (API keys may do everything): `publish` for
 * `/v1/publish` and `/v1/batch`, `read` for the other GET routes, `admin` for the rest.
 */
export const PERMISSIONS = { publish: 'publish', read: 'read', admin: 'admin' } as const;

/**
 * The permission check: true when the identity holds `permission`, or `*`. Identities whose
 * token carries no permissions claim hold none.
 */
export function hasPermission(identity: Pick<Identity, 'permissions'>, permission: string): boolean {
  const held = identity.permissions;
  return held !== undefined && (held.includes(permission) || held.includes(ALL_PERMISSIONS));
}
