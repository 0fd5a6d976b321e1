import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { JwtConfig } from '../config/config.js';
import { GatewayError } from '../protocol/errors.js';
import type { AuthEvent, AuthStrategy, Identity } from './auth-strategy.js';

/**
 * Verifies JWTs with jose against an HMAC secret, a PEM public key or a JWKS URL. Only the configured
 * algorithms are accepted (never `none`), so an HS256 token signed with an RSA public key is refused
 * when RS256 is configured.
 */
export class JwtStrategy implements AuthStrategy {
  readonly name = 'jwt';
  private readonly key: Uint8Array | KeyObject | JWTVerifyGetKey;

  constructor(private readonly config: JwtConfig) {
    if (config.secret !== undefined) this.key = new TextEncoder().encode(config.secret);
    else if (config.publicKeyPem !== undefined) this.key = createPublicKey(config.publicKeyPem);
    else if (config.jwksUrl !== undefined) this.key = reportingOutages(createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 2000 }));
    else throw new Error('JwtStrategy needs a secret, a public key or a JWKS URL');
  }

  async authenticate(event: AuthEvent): Promise<Identity> {
    const payload = await this.verify(event.token);
    const userId = claimAsId(payload, this.config.userClaim) ?? claimAsId(payload, 'sub');
    if (userId === undefined) {
      throw new GatewayError('TOKEN_INVALID', `The token has no ${this.config.userClaim} or sub claim`);
    }
    return {
      userId,
      sessionId: claimAsId(payload, this.config.sessionClaim) ?? claimAsId(payload, 'sid'),
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
      ...roomsOf(payload[this.config.roomsClaim]),
      ...rolesOf([...asArray(payload.roles), ...asArray(payload.role)]),
      ...permissionsOf(payload[this.config.permissionsClaim]),
      ...(claimAsId(payload, this.config.clientIdClaim) === undefined ? {} : { clientId: claimAsId(payload, this.config.clientIdClaim) }),
    };
  }

  private async verify(token: string): Promise<JWTPayload> {
    const options = {
      algorithms: [...this.config.algorithms],
      clockTolerance: this.config.clockToleranceS,
      ...(this.config.issuer === undefined ? {} : { issuer: this.config.issuer }),
      ...(this.config.audience === undefined ? {} : { audience: this.config.audience }),
    };
    try {
      // jwtVerify is overloaded on the key type; the union is narrowed here for the compiler.
      const result = typeof this.key === 'function'
        ? await jwtVerify(token, this.key, options)
        : await jwtVerify(token, this.key, options);
      return result.payload;
    } catch (error) {
      throw fromJoseError(error);
    }
  }
}

function roomsOf(claim: unknown): { rooms?: readonly string[] } {
  if (!Array.isArray(claim)) return {};
  const rooms = claim.filter((room): room is string => typeof room === 'string' && room.length > 0);
  return rooms.length > 0 ? { rooms } : {};
}

function asArray(claim: unknown): unknown[] {
  return Array.isArray(claim) ? claim : claim === undefined ? [] : [claim];
}

/** Roles from the `roles` (array) and `role` (a single role) claims. */
function rolesOf(claims: unknown[]): { roles?: readonly string[] } {
  const roles = claims
    .filter((role): role is string => typeof role === 'string' && role.length > 0 && role.length <= 100);
  return roles.length > 0 ? { roles } : {};
}

/** Permissions from an array claim, or an OAuth-style space-separated `scope` string. */
function permissionsOf(claim: unknown): { permissions?: readonly string[] } {
  const values = typeof claim === 'string' ? claim.split(' ') : Array.isArray(claim) ? claim : [];
  const permissions = values.filter((p): p is string => typeof p === 'string' && p.length > 0 && p.length <= 100);
  return permissions.length > 0 ? { permissions } : {};
}

function claimAsId(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * Wraps a remote JWKS so that an unreachable or broken endpoint is AUTH_UNAVAILABLE (try again), never
 * TOKEN_INVALID: an identity-provider outage must not tell every client its token is bad.
 */
function reportingOutages(jwks: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new GatewayError('AUTH_UNAVAILABLE', 'The JWKS endpoint could not be read');
    }
  };
}

/** Maps jose's error codes onto the catalog; the message names the reason without echoing the token. */
function fromJoseError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof errors.JWTExpired) return new GatewayError('TOKEN_EXPIRED');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new GatewayError('TOKEN_INVALID', `The token's "${error.claim}" claim is not accepted (${error.reason})`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new GatewayError('TOKEN_INVALID', 'The token is signed with an algorithm that is not accepted');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new GatewayError('TOKEN_INVALID', 'The token signature does not verify');
  if (error instanceof errors.JWKSTimeout) return new GatewayError('AUTH_UNAVAILABLE', 'The JWKS endpoint did not answer in time');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new GatewayError('TOKEN_INVALID', 'No single key in the JWKS matches the token');
  }
  if (error instanceof errors.JOSEError) return new GatewayError('TOKEN_INVALID', 'The token is malformed');
  return new GatewayError('AUTH_UNAVAILABLE');
}
