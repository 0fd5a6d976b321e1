import { GatewayError } from '../protocol/errors.js';

/** The parts of a Socket.IO handshake a token can arrive in. */
export interface HandshakeCredentials {
  readonly auth: Record<string, unknown> | undefined;
  readonly authorizationHeader: string | undefined;
  readonly query: Record<string, unknown> | undefined;
}

/**
 * Finds the client's token in a handshake, in seed 002's server's order: `auth.token`, then
 * `auth.Authorization` (what seed 002's `EventDataClientInstance` sends, with or without `Bearer `), then
 * `auth: { authMode: "Bearer", auth: token }`, then an `Authorization: Bearer` header. A `Bearer ` prefix is
 * stripped wherever it comes. A token in the query string is refused with `TOKEN_IN_QUERY` unless
 * `allowQueryToken` is set.
 */
export function extractHandshakeToken(credentials: HandshakeCredentials, allowQueryToken: boolean): string {
  const auth = credentials.auth ?? {};
  if (typeof auth.token === 'string' && auth.token.length > 0) return stripBearer(auth.token);
  if (typeof auth.Authorization === 'string' && auth.Authorization.length > 0) return stripBearer(auth.Authorization);
  if (typeof auth.auth === 'string' && auth.auth.length > 0) return stripBearer(auth.auth);
  const header = credentials.authorizationHeader;
  if (header !== undefined && /^bearer\s+\S/i.test(header)) return stripBearer(header);
  const queryToken = credentials.query?.token;
  if (typeof queryToken === 'string' && queryToken.length > 0) {
    if (allowQueryToken) return queryToken;
    throw new GatewayError('TOKEN_IN_QUERY');
  }
  throw new GatewayError('TOKEN_MISSING');
}

/** Returns the credential of an `Authorization` header value (`Bearer <credential>`), or the value itself. */
export function stripBearer(value: string): string {
  const match = /^bearer\s+(.+)$/i.exec(value.trim());
  return (match?.[1] ?? value).trim();
}
