import { randomBytes } from 'node:crypto';
import { authServiceOn, authStrategyOf, configuredApiKeys, isProduction, jwtKeyCount } from './config-rules.js';
import type { Env } from './env-schema.js';

/** The secrets a valid environment leads to, with what was generated for this run. */
export interface Secrets {
  readonly apiKeys: string[];
  readonly jwtSecret: string | undefined;
  readonly accessTokenSecret: string | undefined;
  readonly refreshTokenSecret: string | undefined;
  readonly accessKey: string | undefined;
  readonly generated: { readonly apiKey: string | undefined; readonly jwtSecret: string | undefined; readonly accessKey: string | undefined };
}

const randomSecret = (): string => randomBytes(32).toString('base64url');

/**
 * Resolves the configured secrets and, outside production, generates the missing ones for this run: an
 * API key, a JWT secret (jwt strategy only), the auth service's token secrets and, with AUTH_SERVICE=on,
 * its access key. Production never gets here without them (the rules refuse it). Called once per load by
 * the mapping to `Config`, after every rule has passed.
 */
export function resolveSecrets(env: Env): Secrets {
  const development = !isProduction(env);
  const authService = authServiceOn(env);
  const generateAuthSecrets = development && authService;
  const accessTokenSecret = env.ACCESS_TOKEN_SECRET ?? (generateAuthSecrets ? randomSecret() : undefined);
  const refreshTokenSecret = env.REFRESH_TOKEN_SECRET ?? (generateAuthSecrets ? randomSecret() : undefined);
  const generatedAccessKey = generateAuthSecrets && env.ACCESS_KEY === undefined && env.AUTH_SERVICE === true
    ? `ak_dev_${randomBytes(18).toString('base64url')}`
    : undefined;

  const configuredKeys = configuredApiKeys(env);
  const generatedApiKey = development && configuredKeys.length === 0 ? `sk_dev_${randomBytes(18).toString('base64url')}` : undefined;

  // Seed 004's "all servers share the same key": without a JWT key of its own the gateway verifies the
  // auth service's access tokens (signed HS256 with ACCESS_TOKEN_SECRET).
  const sharedSecret = jwtKeyCount(env) === 0 && authService ? accessTokenSecret : undefined;
  const generatedJwtSecret = development && jwtKeyCount(env) === 0 && sharedSecret === undefined && authStrategyOf(env) === 'jwt'
    ? randomSecret()
    : undefined;

  return {
    apiKeys: generatedApiKey === undefined ? configuredKeys : [generatedApiKey],
    jwtSecret: env.JWT_SECRET ?? sharedSecret ?? generatedJwtSecret,
    accessTokenSecret,
    refreshTokenSecret,
    accessKey: env.ACCESS_KEY ?? generatedAccessKey,
    generated: { apiKey: generatedApiKey, jwtSecret: generatedJwtSecret, accessKey: generatedAccessKey },
  };
}
