import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyVerifier } from '../../auth/api-key-verifier.js';
import type { AuthStrategy } from '../../auth/auth-strategy.js';
import { ADMIN_ROLE } from '../../auth/permissions.js';
import { GatewayError, type ErrorCode } from '../../protocol/errors.js';
import { API_KEY_REFUSALS, presentedKey } from '../api-key-guard.js';

/**
 * Seed 000's protection: a `Bearer` JWT with the `admin` role (as its auth server issues them; any valid
 * token with `role: "admin"`), or one of the gateway's API keys (`Bearer` or `X-Api-Key`).
 */
export function adminGuard(apiKeys: ApiKeyVerifier, strategy: AuthStrategy) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const credential = presentedKey(request);
    if (credential === undefined) throw new GatewayError('API_KEY_MISSING', 'Send an admin JWT or an API key as Authorization: Bearer');
    if (apiKeys.verify(credential)) return;
    const identity = await strategy.authenticate({ token: credential }).catch((error: unknown) => {
      // An identity-provider outage is a 503 to retry, not a wrong credential.
      if (error instanceof GatewayError && error.code === 'AUTH_UNAVAILABLE') throw error;
      throw new GatewayError('API_KEY_INVALID', 'Neither an API key nor a valid token');
    });
    if (identity.roles?.includes(ADMIN_ROLE) !== true) throw new GatewayError('FORBIDDEN', 'An admin token is required');
  };
}

/** What {@link adminGuard} refuses with. */
export const ADMIN_GUARD_REFUSALS: readonly ErrorCode[] = [...API_KEY_REFUSALS, 'FORBIDDEN', 'AUTH_UNAVAILABLE'];
