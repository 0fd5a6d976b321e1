import { SignJWT } from 'jose';

/**
 * The HS256 secret every server under test is configured with. Switchboard refuses, with
 * NODE_ENV=production, a secret under 32 characters (RFC 7518) and an API key under 16.
 */
export const JWT_SECRET = 'bench-secret-0123456789abcdef-0123456789';
/** The API key the publishing side sends as `Authorization: Bearer …`. */
export const API_KEY = 'bench-key-0123456789';

/**
 * Phase (e): the auth service's refresh-token secret (it must differ from the access-token secret, which is
 * {@link JWT_SECRET}: the gateway then verifies the service's access tokens on the socket) and its admin
 * access key. Both long enough for NODE_ENV=production.
 */
export const REFRESH_TOKEN_SECRET = 'bench-refresh-secret-0123456789abcdef';
export const AUTH_ACCESS_KEY = 'bench-access-key-0123456789';

const key = new TextEncoder().encode(JWT_SECRET);

/** A client token with the claims Switchboard reads (`user_id`, `session_id`), valid for two hours. */
export function signClientToken(userId: string, sessionId: string): Promise<string> {
  return new SignJWT({ user_id: userId, session_id: sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(key);
}
