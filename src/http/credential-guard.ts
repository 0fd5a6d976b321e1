import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { ApiKeyVerifier } from '../auth/api-key-verifier.js';
import type { AuthStrategy } from '../auth/auth-strategy.js';
import { PERMISSIONS, hasPermission } from '../auth/permissions.js';
import { GatewayError, type ErrorCode } from '../protocol/errors.js';
import { API_KEY_REFUSALS, presentedKey } from './api-key-guard.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission a user token needs for this route. */
    permission?: string;
  }
}

/** Three base64url parts: only such credentials are checked as tokens (a wrong API key is not sent to an introspection endpoint). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Who presented a credential the HTTP API accepts: an API key holder (every permission) or the holder of
 * a user token, with that token's permissions and expiry.
 */
export type CredentialHolder =
  | { readonly via: 'api-key' }
  | { readonly via: 'token'; readonly userId: string; readonly permissions: readonly string[]; readonly expiresAt: number | undefined };

/**
 * Checks a credential as `/v1` does: one of the API keys, else (with the auth service on) one of its
 * access tokens, session still active. 401 `API_KEY_INVALID` otherwise; the token's own refusals as they are.
 */
export async function verifyCredential(apiKeys: ApiKeyVerifier, userTokens: AuthStrategy | undefined, presented: string): Promise<CredentialHolder> {
  return apiKeys.verify(presented) ? { via: 'api-key' } : verifyUserToken(userTokens, presented);
}

/** The user-token half of {@link verifyCredential}, for a credential that is not one of the API keys. */
async function verifyUserToken(userTokens: AuthStrategy | undefined, presented: string): Promise<CredentialHolder> {
  if (userTokens === undefined || !JWT_SHAPE.test(presented)) throw new GatewayError('API_KEY_INVALID');
  const identity = await userTokens.authenticate({ token: presented });
  return { via: 'token', userId: identity.userId, permissions: identity.permissions ?? [], expiresAt: identity.expiresAt };
}

/** The permission a route asks of user tokens: its `config.permission`, else `read` for GET and `admin` for the rest. */
export function routePermission(request: FastifyRequest): string {
  return request.routeOptions.config.permission ?? (request.method === 'GET' ? PERMISSIONS.read : PERMISSIONS.admin);
}

/** 403 FORBIDDEN unless `holder` may use a route that needs `permission` (API keys may use every route). */
export function assertPermitted(holder: CredentialHolder, permission: string): void {
  if (holder.via === 'token' && !hasPermission(holder, permission)) {
    throw new GatewayError('FORBIDDEN', `This route needs the "${permission}" permission`, { details: { permission } });
  }
}

/**
 * The permission check for the HTTP API, as an onRequest hook (before the body is
 * read): an API key may call every route; otherwise, with the auth service on, one of its access tokens
 * (session still active) that holds the route's permission ({@link routePermission}). A valid token
 * without it is 403 FORBIDDEN; anything else 401.
 */
export function credentialGuard(apiKeys: ApiKeyVerifier, userTokens: AuthStrategy | undefined) {
  // A callback hook, not an async one: an API key (the backends' every request) is admitted without a promise.
  return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const presented = presentedKey(request);
    if (presented === undefined) return done(new GatewayError('API_KEY_MISSING'));
    if (apiKeys.verify(presented)) return done();
    verifyUserToken(userTokens, presented)
      .then((holder) => assertPermitted(holder, routePermission(request)))
      .then(() => done(), (error: unknown) => done(error instanceof Error ? error : new Error(String(error))));
  };
}

/** What {@link credentialGuard} refuses with: a wrong or missing key, and with user tokens what checking one can say. */
export function credentialRefusals(userTokens: AuthStrategy | undefined): ErrorCode[] {
  return userTokens === undefined
    ? [...API_KEY_REFUSALS]
    : [...API_KEY_REFUSALS, 'TOKEN_EXPIRED', 'TOKEN_INVALID', 'SESSION_REVOKED', 'USER_DISABLED', 'FORBIDDEN', 'AUTH_UNAVAILABLE'];
}
