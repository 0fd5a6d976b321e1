import { randomUUID } from 'node:crypto';
import type { AuthEvent, AuthStrategy, Identity } from './auth-strategy.js';

/** The identity given to a socket nobody vouched for: a fresh `anonymous:<uuid>` user, no session, no expiry. */
export function anonymousIdentity(): Identity {
  return { userId: `anonymous:${randomUUID()}`, sessionId: undefined, expiresAt: undefined };
}

/**
 * Lets every client in as a new anonymous user (AUTH_STRATEGY=none), whatever token it presents. For local
 * development only: the configuration refuses it in production. Each call mints another user id, so an
 * `auth:refresh` on such a socket is IDENTITY_MISMATCH (it never needs one: nothing expires).
 */
export class NoneStrategy implements AuthStrategy {
  readonly name = 'none';
  readonly acceptsMissingToken = true;

  async authenticate(_event: AuthEvent): Promise<Identity> {
    return anonymousIdentity();
  }
}
