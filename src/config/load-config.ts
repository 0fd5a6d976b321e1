import { createPublicKey, randomBytes } from 'node:crypto';
import { GATEWAY_EVENTS, RESERVED_EVENT_NAMES } from '../protocol/events.js';
import { RoomPattern } from '../protocol/room-pattern.js';
import type { Config, EventPermission } from './config.js';
import { envSchema, type Env } from './env-schema.js';

const HMAC_ALGORITHMS = new Set(['HS256', 'HS384', 'HS512']);
const ASYMMETRIC_ALGORITHMS = new Set([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
]);

/**
 * The path prefixes of the other HTTP surfaces, which seed 002's catch-all event route must not shadow
 * or be shadowed by. At `/` it only takes single-segment POSTs, which no other surface uses.
 */
const SURFACE_PREFIXES: readonly (readonly [string, string])[] = [
  ['/v1', 'the canonical API'], ['/internal', "seed 003's internal routes"], ['/api/socket', "seed 001's channel API"],
  ['/socket.io', 'the Socket.IO endpoint'], ['/healthz', 'the health check'], ['/readyz', 'the readiness check'],
  ['/auth', 'the auth service (AUTH_PORT=same)'],
];

const MIN_API_KEY_LENGTH = 16;
const MIN_JWT_SECRET_LENGTH = 32;

/** Which `alg`s each kind of public key can verify (node:crypto's asymmetricKeyType, EC by curve). */
const ALGORITHMS_BY_KEY: Record<string, readonly string[]> = {
  rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'rsa-pss': ['PS256', 'PS384', 'PS512'],
  'ec:prime256v1': ['ES256'],
  'ec:secp384r1': ['ES384'],
  'ec:secp521r1': ['ES512'],
  ed25519: ['EdDSA', 'Ed25519'],
};

/** Thrown when the environment does not describe a runnable gateway; lists every problem, one per line. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Reads the environment once into a frozen {@link Config}. Collects every problem before failing so an
 * operator fixes them in one go. In development, missing secrets are generated for this run; in
 * production they are required.
 */
export function loadConfig(source: NodeJS.ProcessEnv): Config {
  const parsed = envSchema.safeParse(emptyToUndefined(source));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`));
  }
  const env = withSeedAliases(parsed.data);
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';
  const authStrategy = env.AUTH_STRATEGY ?? 'jwt';
  const introspectionUrl = env.INTROSPECTION_URL;
  if (authStrategy === 'introspection' && introspectionUrl === undefined) {
    problems.push('INTROSPECTION_URL (or IDAE_SOCKET_INTROSPECTION_URL) is required when AUTH_STRATEGY=introspection');
  }

  const keySources = [env.JWT_SECRET, env.JWT_PUBLIC_KEY, env.JWT_JWKS_URL].filter((v) => v !== undefined);
  const authServiceOn = env.AUTH_SERVICE ?? env.ACCESS_TOKEN_SECRET !== undefined;
  if (keySources.length > 1) problems.push('JWT_SECRET, JWT_PUBLIC_KEY and JWT_JWKS_URL are exclusive: set only one');
  checkAlgorithms(env, problems);
  if (env.JWT_PUBLIC_KEY !== undefined) checkPublicKey(env.JWT_PUBLIC_KEY, env.JWT_ALGORITHMS, problems);
  checkOrigins(env.CORS_ORIGIN, problems);
  const impersonated = [...GATEWAY_EVENTS, ...env.INTERNAL_EVENTS].filter((event) => env.CLIENT_EVENTS.some((pattern) => new RoomPattern(pattern).matches(event)));
  if (impersonated.length > 0) problems.push(`CLIENT_EVENTS would let clients send gateway events (${impersonated.join(', ')}): narrow the patterns, e.g. client-*`);
  const collision = SURFACE_PREFIXES.find(([prefix]) => env.GATEWAY_BASE_PATH !== '/' && (env.GATEWAY_BASE_PATH === prefix
    || env.GATEWAY_BASE_PATH.startsWith(`${prefix}/`) || prefix.startsWith(`${env.GATEWAY_BASE_PATH}/`)));
  for (const event of env.TRANSACTION_EVENTS) {
    if (!/^[A-Za-z0-9._~-]{1,128}$/.test(event) || event === 'client' || event === 'event') {
      problems.push(`TRANSACTION_EVENTS: "${event}" is not usable (URL-safe characters only, and not "client" or "event", which are routes)`);
    }
  }
  if (env.GATEWAY_BASE_PATH === '/' && env.TRANSACTIONS_API) {
    problems.push("GATEWAY_BASE_PATH=/ collides with seed 000's transaction routes (/client, /event, /completed, …): set TRANSACTIONS_API=false or another path");
  }
  if (collision !== undefined) problems.push(`GATEWAY_BASE_PATH=${env.GATEWAY_BASE_PATH} collides with ${collision[1]} (${collision[0]}): choose another path`);
  for (const pair of env.EVENT_PERMISSIONS) {
    const { event, permission } = parseEventPermission(pair);
    if (!pair.includes('=') || event.length === 0 || permission.length === 0) problems.push(`EVENT_PERMISSIONS: "${pair}" is not event=permission`);
  }
  const reserved = env.INTERNAL_EVENTS.filter((event) => RESERVED_EVENT_NAMES.has(event));
  if (reserved.length > 0) problems.push(`INTERNAL_EVENTS: ${reserved.join(', ')} reserved by Socket.IO`);

  const configuredKeys = env.API_KEYS ?? firstDefined(env.INTERNAL_SECRET, env.AUTH_TOKEN, env.SECRET_KEY);
  // Seed 001's HTTP_API_KEY is one more accepted key, whichever of the above is set.
  let apiKeys: string[] = [...(configuredKeys ?? []), ...(env.HTTP_API_KEY === undefined ? [] : [env.HTTP_API_KEY])];
  let generatedApiKey: string | undefined;
  let jwtSecret = env.JWT_SECRET;
  let generatedJwtSecret: string | undefined;
  let accessTokenSecret = env.ACCESS_TOKEN_SECRET;
  let refreshTokenSecret = env.REFRESH_TOKEN_SECRET;
  let accessKey = env.ACCESS_KEY;
  let generatedAccessKey: string | undefined;
  checkAuthService(env, authServiceOn, production, problems);
  if (authServiceOn && !production) {
    accessTokenSecret ??= randomBytes(32).toString('base64url');
    refreshTokenSecret ??= randomBytes(32).toString('base64url');
    if (accessKey === undefined && env.AUTH_SERVICE === true) {
      generatedAccessKey = `ak_dev_${randomBytes(18).toString('base64url')}`;
      accessKey = generatedAccessKey;
    }
  }
  // Seed 004's "all servers share the same key": without a JWT key of its own the gateway verifies the
  // auth service's access tokens (signed HS256 with ACCESS_TOKEN_SECRET).
  if (keySources.length === 0 && authServiceOn && accessTokenSecret !== undefined) jwtSecret = accessTokenSecret;
  const hasJwtKey = keySources.length > 0 || jwtSecret !== undefined;

  if (production) {
    if (apiKeys.length === 0) problems.push('API_KEYS (or INTERNAL_SECRET, AUTH_TOKEN, SECRET_KEY, HTTP_API_KEY) is required when NODE_ENV=production');
    if (!hasJwtKey && authStrategy === 'jwt') problems.push('JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL or ACCESS_TOKEN_SECRET is required when NODE_ENV=production');
    if (authStrategy === 'none') problems.push('AUTH_STRATEGY=none lets anyone connect unauthenticated and is refused when NODE_ENV=production');
    if (env.AUTH_SOFT_FAIL) problems.push('AUTH_SOFT_FAIL=true lets sockets with bad tokens in as anonymous users and is refused when NODE_ENV=production');
    if (env.WEBHOOK_URL !== undefined && env.WEBHOOK_SECRET === undefined) problems.push('WEBHOOK_SECRET is required with WEBHOOK_URL when NODE_ENV=production (receivers must be able to verify deliveries)');
    if (apiKeys.some((key) => key.length < MIN_API_KEY_LENGTH)) problems.push(`API keys must be at least ${MIN_API_KEY_LENGTH} characters when NODE_ENV=production`);
    if (env.JWT_SECRET !== undefined && env.JWT_SECRET.length < MIN_JWT_SECRET_LENGTH) {
      problems.push(`JWT_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters when NODE_ENV=production (RFC 7518: a 256-bit key for HS256)`);
    }
  } else {
    if (apiKeys.length === 0) {
      generatedApiKey = `sk_dev_${randomBytes(18).toString('base64url')}`;
      apiKeys = [generatedApiKey];
    }
    // Only the jwt strategy needs a key; the others get none generated (and no dev token in the banner).
    if (!hasJwtKey && authStrategy === 'jwt') {
      if (env.JWT_ALGORITHMS.some((alg) => !HMAC_ALGORITHMS.has(alg))) {
        problems.push('JWT_ALGORITHMS lists an asymmetric algorithm but no JWT_PUBLIC_KEY or JWT_JWKS_URL is set');
      }
      generatedJwtSecret = randomBytes(32).toString('base64url');
      jwtSecret = generatedJwtSecret;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const config: Config = {
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    authStrategy,
    authSoftFail: env.AUTH_SOFT_FAIL,
    jwt: {
      secret: jwtSecret,
      publicKeyPem: env.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n'),
      jwksUrl: env.JWT_JWKS_URL,
      algorithms: env.JWT_ALGORITHMS,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      clockToleranceS: env.JWT_CLOCK_TOLERANCE,
      userClaim: env.JWT_USER_CLAIM,
      sessionClaim: env.JWT_SESSION_CLAIM,
      roomsClaim: env.JWT_ROOMS_CLAIM,
      clientIdClaim: env.JWT_CLIENT_ID_CLAIM,
      permissionsClaim: env.JWT_PERMISSIONS_CLAIM,
    },
    introspection: authStrategy === 'introspection' && introspectionUrl !== undefined
      ? { url: introspectionUrl, timeoutMs: env.INTROSPECTION_TIMEOUT_MS, cacheTtlMs: env.INTROSPECTION_CACHE_S * 1000 }
      : undefined,
    apiKeys,
    // With seed 001's ALLOW_REQUEST_DOMAINS alone, those domains decide (no CORS_ORIGIN list needed).
    corsOrigin: parseOrigins(env.CORS_ORIGIN, production && env.ALLOW_REQUEST_DOMAINS === undefined),
    allowRequestDomains: (env.ALLOW_REQUEST_DOMAINS ?? []).map((domain) => domain.toLowerCase().replace(/^\*?\./, '')),
    allowQueryToken: env.ALLOW_QUERY_TOKEN,
    internalEvents: env.INTERNAL_EVENTS,
    sessionPolicy: env.SESSION_POLICY,
    maxPayloadBytes: env.MAX_PAYLOAD_BYTES,
    maxBatchSize: env.MAX_BATCH_SIZE,
    tokenExpiryGraceMs: env.TOKEN_EXPIRY_GRACE_MS,
    shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    publicRooms: env.PUBLIC_ROOMS ?? (production ? [] : ['*']),
    maxRoomsPerSocket: env.MAX_ROOMS_PER_SOCKET,
    clientEventsPerSecond: env.CLIENT_EVENTS_PER_SECOND,
    clientEvents: env.CLIENT_EVENTS,
    joinTokenTtlS: env.JOIN_TOKEN_TTL_S,
    gatewayBasePath: env.GATEWAY_BASE_PATH,
    dataDir: env.DATA_DIR,
    transactionEvents: env.TRANSACTION_EVENTS,
    transactionsApi: env.TRANSACTIONS_API,
    webhooks: { url: env.WEBHOOK_URL, secret: env.WEBHOOK_SECRET, allowedHosts: env.WEBHOOK_ALLOWED_HOSTS ?? [] },
    redis: redisConfig(env),
    recoveryWindowMs: env.RECOVERY_WINDOW_MS,
    presenceHeartbeatMs: env.PRESENCE_HEARTBEAT_MS,
    historySize: env.HISTORY_SIZE,
    historyTtlMs: env.HISTORY_TTL_S * 1000,
    authService: authServiceOn && accessTokenSecret !== undefined && refreshTokenSecret !== undefined
      ? {
        port: env.AUTH_PORT,
        accessTokenSecret,
        refreshTokenSecret,
        accessKey,
        accessTokenTtlS: env.ACCESS_TOKEN_TTL,
        refreshTokenTtlS: env.REFRESH_TOKEN_TTL,
        reuseAccessToken: env.REUSE_ACCESS_TOKEN,
        verifyUser: env.VERIFY_USER_URL === undefined ? undefined : { url: env.VERIFY_USER_URL, timeoutMs: env.VERIFY_USER_TIMEOUT_MS },
        loginMaxFailures: env.LOGIN_MAX_FAILURES,
        loginFailureWindowMs: env.LOGIN_FAILURE_WINDOW_S * 1000,
        accountEventsPollMs: env.ACCOUNT_EVENTS_POLL_MS,
      }
      : undefined,
    databaseUrl: env.DATABASE_URL,
    tokenStateCheck: env.TOKEN_STATE_CHECK,
    tokenStateCacheMs: env.TOKEN_STATE_CACHE_MS,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    eventPermissions: env.EVENT_PERMISSIONS.map((pair) => parseEventPermission(pair)),
    generated: { apiKey: generatedApiKey, jwtSecret: generatedJwtSecret, accessKey: generatedAccessKey },
  };
  return deepFreeze(config);
}

/** The auth service's own rules: distinct secrets, strong ones in production, a port of its own. */
function checkAuthService(env: Env, on: boolean, production: boolean, problems: string[]): void {
  if (!on) {
    if (env.TOKEN_STATE_CHECK) problems.push('TOKEN_STATE_CHECK=true needs the auth service (set ACCESS_TOKEN_SECRET or AUTH_SERVICE=on)');
    return;
  }
  if (env.REFRESH_TOKEN_SECRET !== undefined && (env.REFRESH_TOKEN_SECRET === env.ACCESS_TOKEN_SECRET || env.REFRESH_TOKEN_SECRET === env.JWT_SECRET)) {
    problems.push('REFRESH_TOKEN_SECRET must differ from ACCESS_TOKEN_SECRET and JWT_SECRET (a refresh token must never pass as an access token)');
  }
  if (env.AUTH_PORT !== 'same' && env.AUTH_PORT !== 0 && env.AUTH_PORT === env.PORT) {
    problems.push(`AUTH_PORT=${env.AUTH_PORT} is the gateway's PORT: choose another port or AUTH_PORT=same (mounted under /auth)`);
  }
  if (env.JWT_PUBLIC_KEY === undefined && env.JWT_JWKS_URL === undefined && env.JWT_SECRET === undefined && !env.JWT_ALGORITHMS.includes('HS256')) {
    problems.push('JWT_ALGORITHMS must include HS256 to verify the auth service\'s access tokens');
  }
  if (env.ACCESS_TOKEN_TTL >= env.REFRESH_TOKEN_TTL) problems.push('ACCESS_TOKEN_TTL must be shorter than REFRESH_TOKEN_TTL');
  if (!production) return;
  for (const [name, value] of [['ACCESS_TOKEN_SECRET', env.ACCESS_TOKEN_SECRET], ['REFRESH_TOKEN_SECRET', env.REFRESH_TOKEN_SECRET]] as const) {
    if (value === undefined) problems.push(`${name} is required for the auth service when NODE_ENV=production`);
    else if (value.length < MIN_JWT_SECRET_LENGTH) problems.push(`${name} must be at least ${MIN_JWT_SECRET_LENGTH} characters when NODE_ENV=production`);
  }
  if (env.ACCESS_KEY !== undefined && env.ACCESS_KEY.length < MIN_API_KEY_LENGTH) {
    problems.push(`ACCESS_KEY must be at least ${MIN_API_KEY_LENGTH} characters when NODE_ENV=production`);
  }
}

/** `event=permission`; a malformed pair is reported by loadConfig. */
function parseEventPermission(pair: string): EventPermission {
  const at = pair.lastIndexOf('=');
  return { event: pair.slice(0, at).trim(), permission: pair.slice(at + 1).trim() };
}

/** TRUST_PROXY: `true`/`false`, a hop count, or a comma list of addresses and CIDRs. */
function parseTrustProxy(value: string | undefined): boolean | number | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Folds seed 002's IDAE_SOCKET_* names into their canonical variables; the canonical one wins when both are set. */
function withSeedAliases(env: Env): Env {
  return {
    ...env,
    AUTH_STRATEGY: env.AUTH_STRATEGY ?? env.IDAE_SOCKET_AUTH_STRATEGY,
    JWT_SECRET: env.JWT_SECRET ?? env.IDAE_SOCKET_JWT_SECRET,
    INTROSPECTION_URL: env.INTROSPECTION_URL ?? env.IDAE_SOCKET_INTROSPECTION_URL,
  };
}

/** REDIS_URL, else the seeds' split form REDIS_HOST / REDIS_PORT / REDIS_PASS (or REDIS_AUTH_PASSWORD). */
function redisConfig(env: Env): Config['redis'] {
  const prefix = env.REDIS_DATA_PREFIX;
  const adapter = env.REDIS_ADAPTER;
  if (env.REDIS_URL !== undefined) return { url: env.REDIS_URL, prefix, adapter };
  if (env.REDIS_HOST === undefined && env.REDIS_PORT === undefined) return undefined;
  const url = new URL('redis://localhost');
  url.hostname = env.REDIS_HOST ?? '127.0.0.1';
  url.port = String(env.REDIS_PORT ?? 6379);
  const password = env.REDIS_PASS ?? env.REDIS_AUTH_PASSWORD;
  if (password !== undefined) url.password = password;
  return { url: url.toString(), prefix, adapter };
}

function checkAlgorithms(env: Env, problems: string[]): void {
  for (const alg of env.JWT_ALGORITHMS) {
    if (alg.toLowerCase() === 'none') problems.push('JWT_ALGORITHMS: "none" is never accepted');
    else if (!HMAC_ALGORITHMS.has(alg) && !ASYMMETRIC_ALGORITHMS.has(alg)) problems.push(`JWT_ALGORITHMS: unknown algorithm "${alg}"`);
  }
  if (env.JWT_ALGORITHMS.length === 0) problems.push('JWT_ALGORITHMS: list at least one algorithm');
  const hmac = env.JWT_ALGORITHMS.filter((alg) => HMAC_ALGORITHMS.has(alg));
  const asymmetric = env.JWT_ALGORITHMS.filter((alg) => ASYMMETRIC_ALGORITHMS.has(alg));
  if (env.JWT_SECRET !== undefined && asymmetric.length > 0) {
    problems.push(`JWT_ALGORITHMS lists ${asymmetric.join(', ')} but JWT_SECRET is an HMAC secret: list only HS256/HS384/HS512`);
  }
  if ((env.JWT_PUBLIC_KEY !== undefined || env.JWT_JWKS_URL !== undefined) && hmac.length > 0) {
    problems.push(`JWT_ALGORITHMS lists ${hmac.join(', ')} but the key is a public key: list only asymmetric algorithms (e.g. RS256)`);
  }
}

function checkPublicKey(pem: string, algorithms: readonly string[], problems: string[]): void {
  let kind: string;
  try {
    const key = createPublicKey(pem.replace(/\\n/g, '\n'));
    kind = key.asymmetricKeyType === 'ec' ? `ec:${key.asymmetricKeyDetails?.namedCurve ?? '?'}` : String(key.asymmetricKeyType);
  } catch {
    problems.push('JWT_PUBLIC_KEY: not a PEM public key');
    return;
  }
  const fitting = ALGORITHMS_BY_KEY[kind] ?? [];
  const misfits = algorithms.filter((alg) => ASYMMETRIC_ALGORITHMS.has(alg) && !fitting.includes(alg));
  if (misfits.length > 0) {
    problems.push(`JWT_ALGORITHMS: ${misfits.join(', ')} cannot be verified with this ${kind} key (it fits ${fitting.join(', ') || 'none'})`);
  }
}

function checkOrigins(value: string | undefined, problems: string[]): void {
  if (value === undefined || value.trim() === '*') return;
  for (const origin of value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const bare = origin.replace(/\/+$/, '').toLowerCase();
    if (!URL.canParse(bare) || new URL(bare).origin !== bare) {
      problems.push(`CORS_ORIGIN: "${origin}" is not an origin (scheme://host[:port], no path)`);
    }
  }
}

function parseOrigins(value: string | undefined, noneByDefault: boolean): '*' | string[] {
  if (value === undefined) return noneByDefault ? [] : '*';
  if (value.trim() === '*') return '*';
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

function firstDefined(...values: (string | undefined)[]): string[] | undefined {
  const found = values.find((v) => v !== undefined);
  return found === undefined ? undefined : [found];
}

/** Treats `VAR=` (empty) as unset, as shells and .env files commonly produce it. */
export function emptyToUndefined(source: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(source)) out[key] = value === '' ? undefined : value;
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
