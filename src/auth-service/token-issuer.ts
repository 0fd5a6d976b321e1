import { createHash } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { JwtConfig } from '../config/config.js';
import { GatewayError } from '../protocol/errors.js';

/** What an access token says (times in Unix seconds, as in JWTs). */
export interface AccessTokenClaims {
  readonly userId: string;
  readonly sessionId: string;
  readonly role: string;
  readonly permissions: readonly string[];
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
}

/** What a refresh token says: the session and its generation (each refresh spends one). */
export interface RefreshTokenClaims {
  readonly userId: string;
  readonly sessionId: string;
  readonly generation: number;
  readonly iat: number;
  readonly exp: number;
}

const REFRESH_TYPE = 'refresh';

/**
 * Signs the auth service's tokens with jose (HS256). Access tokens carry the claims the gateway reads
 * (`sub` and JWT_USER_CLAIM, JWT_SESSION_CLAIM, `role`, JWT_PERMISSIONS_CLAIM, `jti`, plus JWT_ISSUER /
 * JWT_AUDIENCE when set). Refresh tokens are signed with a different secret, so neither passes as the
 * other. Signing is deterministic: the same claims give the same token, which lets REUSE_ACCESS_TOKEN
 * hand a device its still-valid tokens again without storing them.
 */
export class TokenIssuer {
  private readonly accessKey: Uint8Array;
  private readonly refreshKey: Uint8Array;

  constructor(accessSecret: string, refreshSecret: string, private readonly jwt: JwtConfig) {
    this.accessKey = new TextEncoder().encode(accessSecret);
    this.refreshKey = new TextEncoder().encode(refreshSecret);
  }

  signAccess(claims: AccessTokenClaims): Promise<string> {
    const payload: Record<string, unknown> = {
      sub: claims.userId,
      [this.jwt.userClaim]: claims.userId,
      [this.jwt.sessionClaim]: claims.sessionId,
      role: claims.role,
      [this.jwt.permissionsClaim]: [...claims.permissions],
    };
    const jwt = new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setJti(claims.jti).setIssuedAt(claims.iat).setExpirationTime(claims.exp);
    if (this.jwt.issuer !== undefined) jwt.setIssuer(this.jwt.issuer);
    if (this.jwt.audience !== undefined) jwt.setAudience(this.jwt.audience);
    return jwt.sign(this.accessKey);
  }

  signRefresh(claims: RefreshTokenClaims): Promise<string> {
    return new SignJWT({ sub: claims.userId, sid: claims.sessionId, gen: claims.generation, typ: REFRESH_TYPE })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .sign(this.refreshKey);
  }

  /**
   * Checks a refresh token's signature and shape. Expired tokens are refused unless `allowExpired`
   * (logout accepts them: there is nothing left to revoke, but it must not fail). Anything else is
   * REFRESH_TOKEN_INVALID.
   */
  async verifyRefresh(token: string, allowExpired = false): Promise<RefreshTokenClaims & { expired: boolean }> {
    try {
      const { payload } = await jwtVerify(token, this.refreshKey, { algorithms: ['HS256'], ...(allowExpired ? { currentDate: new Date(0) } : {}) });
      const { sub, sid, gen, typ, iat, exp } = payload;
      if (typeof sub !== 'string' || typeof sid !== 'string' || !Number.isSafeInteger(gen) || typ !== REFRESH_TYPE || typeof iat !== 'number' || typeof exp !== 'number') {
        throw new GatewayError('REFRESH_TOKEN_INVALID');
      }
      return { userId: sub, sessionId: sid, generation: gen as number, iat, exp, expired: exp * 1000 <= Date.now() };
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      if (error instanceof errors.JWTExpired) throw new GatewayError('REFRESH_TOKEN_INVALID', 'The refresh token has expired; log in again');
      throw new GatewayError('REFRESH_TOKEN_INVALID');
    }
  }
}

/** What the store keeps of a refresh token: its SHA-256, hex. */
export function refreshTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
