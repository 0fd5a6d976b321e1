import { availableParallelism } from 'node:os';
import type { z } from 'zod';
import { authServiceOn, authStrategyOf, checkRules, isProduction, withSeedAliases } from './config-rules.js';
import { resolveSecrets } from './dev-secrets.js';
import { envSchema, type Env } from './env-schema.js';
import type { RedisTarget } from './redis-target.js';

/**
 * The configuration schema: the environment variables (`env-schema.ts`), the rules across them
 * (`config-rules.ts`, run even when some variables failed, so one pass lists every problem) and the
 * mapping to the structured {@link Config} every component receives from the composition root.
 */
export const configSchema = envSchema
  .superRefine(checkRules, { when: () => true })
  .transform(toConfig);

/** A value and everything in it read-only, as `loadConfig` freezes it. */
export type DeepReadonly<T> = T extends readonly (infer Item)[]
  ? readonly DeepReadonly<Item>[]
  : T extends object ? { readonly [Key in keyof T]: DeepReadonly<T[Key]> } : T;

/** The validated, frozen configuration (see `loadConfig`). */
export type Config = DeepReadonly<z.output<typeof configSchema>>;
export type JwtConfig = Config['jwt'];
/** The built-in auth service (seeds 000 and 004): login, refresh, logout, password change. */
export type AuthServiceConfig = NonNullable<Config['authService']>;
/** The RFC 7662-style token introspection endpoint used by AUTH_STRATEGY=introspection. */
export type IntrospectionConfig = NonNullable<Config['introspection']>;
/** Where the Redis engine connects; absent when the in-memory engine is used. */
export type RedisConfig = NonNullable<Config['redis']>;
/** A client event (name or `*` pattern) that needs a permission. */
export type EventPermission = Config['eventPermissions'][number];
/** How clients are authenticated: see `src/auth/create-auth-strategy.ts`. */
export type AuthStrategyName = Config['authStrategy'];
export type SessionPolicy = Config['sessionPolicy'];
export type NodeEnv = Config['nodeEnv'];
export type LogLevel = Config['logLevel'];

/** Maps a valid environment (every rule passed) to the configuration; generates development secrets. */
function toConfig(parsed: Env) {
  const env = withSeedAliases(parsed);
  const production = isProduction(env);
  const authStrategy = authStrategyOf(env);
  const secrets = resolveSecrets(env);
  const { accessTokenSecret, refreshTokenSecret } = secrets;
  return {
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    /** The window of sampled log lines (see `src/runtime/log-sampler.ts`). */
    logSampleIntervalMs: env.LOG_SAMPLE_INTERVAL_MS,
    authStrategy,
    authSoftFail: env.AUTH_SOFT_FAIL,
    jwt: {
      /** HMAC secret; at most one of secret, publicKeyPem, jwksUrl is set. */
      secret: secrets.jwtSecret,
      publicKeyPem: env.JWT_PUBLIC_KEY,
      jwksUrl: env.JWT_JWKS_URL,
      /** Accepted `alg` values; never contains `none`. */
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
    /** Set when `authStrategy` is `introspection`. */
    introspection: authStrategy === 'introspection' && env.INTROSPECTION_URL !== undefined
      ? { url: env.INTROSPECTION_URL, timeoutMs: env.INTROSPECTION_TIMEOUT_MS, cacheTtlMs: env.INTROSPECTION_CACHE_S * 1000 }
      : undefined,
    apiKeys: secrets.apiKeys,
    // With seed 001's ALLOW_REQUEST_DOMAINS alone, those domains decide (no CORS_ORIGIN list needed).
    corsOrigin: env.CORS_ORIGIN ?? (production && env.ALLOW_REQUEST_DOMAINS === undefined ? [] : '*'),
    allowRequestDomains: env.ALLOW_REQUEST_DOMAINS ?? [],
    allowQueryToken: env.ALLOW_QUERY_TOKEN,
    internalEvents: env.INTERNAL_EVENTS,
    sessionPolicy: env.SESSION_POLICY,
    maxPayloadBytes: env.MAX_PAYLOAD_BYTES,
    pingIntervalMs: env.PING_INTERVAL_MS,
    pingTimeoutMs: env.PING_TIMEOUT_MS,
    connectTimeoutMs: env.CONNECT_TIMEOUT_MS,
    maxBatchSize: env.MAX_BATCH_SIZE,
    /** Caps on Engine.IO sessions no socket has entered a namespace through yet. */
    pendingHandshakes: { perAddress: env.MAX_PENDING_HANDSHAKES_PER_IP, total: env.MAX_PENDING_HANDSHAKES },
    /** Per client address: handshake rate (0 = off) and open connections (0 = no cap); per user: open connections on this node. */
    connectionLimits: {
      perSecond: env.CONNECTIONS_PER_IP_PER_S,
      burst: env.CONNECTIONS_BURST,
      perAddress: env.MAX_CONNECTIONS_PER_IP,
      perUser: env.MAX_CONNECTIONS_PER_USER,
    },
    /** Failed Socket.IO handshakes per connection (0 = no cap) and per client address per minute (0 = no limit). */
    failedHandshakes: { perConnection: env.MAX_FAILED_HANDSHAKES_PER_CONNECTION, perAddressPerMinute: env.FAILED_HANDSHAKES_PER_IP_PER_MIN },
    /** HTTP API requests per second per credential or client address; 0 = off. */
    httpRateLimitPerS: env.HTTP_RATE_LIMIT_PER_S,
    httpRequestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    /** Serve `/openapi.json`, `/asyncapi.json` and `/docs` (and the auth service's own listener its `/openapi.json` and `/docs`). */
    apiDocs: env.API_DOCS,
    /** Unsent outbound bytes one connection may queue before it is closed; 0 = no cap. */
    maxBufferedBytes: env.MAX_BUFFERED_BYTES,
    tokenExpiryGraceMs: env.TOKEN_EXPIRY_GRACE_MS,
    /** Gateway worker processes sharing PORT (`auto` resolved to the cores available); 1 = one process, no primary. */
    workers: env.WORKERS === 'auto' ? availableParallelism() : env.WORKERS,
    shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    /** Prometheus metrics: `undefined` when METRICS=false (nothing counted); `port` = the keyless scrape listener, `undefined` = none. */
    metrics: env.METRICS ? { port: env.METRICS_PORT } : undefined,
    publicRooms: env.PUBLIC_ROOMS ?? (production ? [] : ['*']),
    maxRoomsPerSocket: env.MAX_ROOMS_PER_SOCKET,
    clientEventsPerSecond: env.CLIENT_EVENTS_PER_SECOND,
    clientEvents: env.CLIENT_EVENTS,
    directMessageScope: env.DIRECT_MESSAGE_SCOPE,
    joinTokenTtlS: env.JOIN_TOKEN_TTL_S,
    gatewayBasePath: env.GATEWAY_BASE_PATH,
    gatewayEmit: env.GATEWAY_EMIT,
    dataDir: env.DATA_DIR,
    transactionEvents: env.TRANSACTION_EVENTS,
    transactionsApi: env.TRANSACTIONS_API,
    internalApi: env.INTERNAL_API,
    channelEventsApi: env.CHANNEL_EVENTS_API,
    eventGatewayApi: env.EVENT_GATEWAY_API,
    webhooks: { url: env.WEBHOOK_URL, secret: env.WEBHOOK_SECRET, allowedHosts: env.WEBHOOK_ALLOWED_HOSTS ?? [] },
    /** `undefined` selects the in-memory engine. */
    redis: redisConfig(env),
    recoveryWindowMs: env.RECOVERY_WINDOW_MS,
    presenceHeartbeatMs: env.PRESENCE_HEARTBEAT_MS,
    historySize: env.HISTORY_SIZE,
    historyTtlMs: env.HISTORY_TTL_S * 1000,
    /** `undefined` when the auth service is off. */
    authService: authServiceOn(env) && accessTokenSecret !== undefined && refreshTokenSecret !== undefined
      ? {
        /** Its own listener's port (0 = any free port), or `same`: mounted under `/auth` on the gateway's port. */
        port: env.AUTH_PORT,
        accessTokenSecret,
        refreshTokenSecret,
        /** `undefined` = admin login off. */
        accessKey: secrets.accessKey,
        accessTokenTtlS: env.ACCESS_TOKEN_TTL,
        refreshTokenTtlS: env.REFRESH_TOKEN_TTL,
        reuseAccessToken: env.REUSE_ACCESS_TOKEN,
        /** `undefined` = the built-in user store. */
        verifyUser: env.VERIFY_USER_URL === undefined ? undefined : { url: env.VERIFY_USER_URL, timeoutMs: env.VERIFY_USER_TIMEOUT_MS },
        loginMaxFailures: env.LOGIN_MAX_FAILURES,
        loginFailureWindowMs: env.LOGIN_FAILURE_WINDOW_S * 1000,
        accountEventsPollMs: env.ACCOUNT_EVENTS_POLL_MS,
      }
      : undefined,
    /** `undefined` = SQLite under `dataDir`. */
    databaseUrl: env.DATABASE_URL,
    tokenStateCheck: env.TOKEN_STATE_CHECK,
    tokenStateCacheMs: env.TOKEN_STATE_CACHE_MS,
    /** Fastify's `trustProxy`; false = none. */
    trustProxy: env.TRUST_PROXY ?? false,
    eventPermissions: env.EVENT_PERMISSIONS,
    /** The admin dashboard at `/admin`: on or off, and how long one sign-in lasts. */
    adminUi: { enabled: env.ADMIN_UI, sessionTtlMs: env.ADMIN_SESSION_TTL_S * 1000 },
    /** The browser Client SDK's bundle at `/client/switchboard.min.js` (packages/client's `dist/`). */
    clientBundle: env.CLIENT_BUNDLE,
    /** Secrets generated for this run because none were configured (development only). */
    generated: secrets.generated,
  } as const;
}

/**
 * Where the Redis engine finds Redis: REDIS_SENTINELS (the master they name, its password REDIS_PASS or
 * REDIS_AUTH_PASSWORD), else REDIS_CLUSTER_NODES (a Redis Cluster, same password), else REDIS_URL, else the seeds' split form REDIS_HOST / REDIS_PORT / REDIS_PASS
 * (or REDIS_AUTH_PASSWORD). The rules refuse two of these at once.
 */
function redisConfig(env: Env): { target: RedisTarget; prefix: string; adapter: Env['REDIS_ADAPTER'] } | undefined {
  const common = { prefix: env.REDIS_DATA_PREFIX, adapter: env.REDIS_ADAPTER };
  const password = env.REDIS_PASS ?? env.REDIS_AUTH_PASSWORD;
  if (env.REDIS_SENTINELS !== undefined && env.REDIS_SENTINEL_NAME !== undefined) {
    return {
      target: { kind: 'sentinel', sentinels: env.REDIS_SENTINELS, name: env.REDIS_SENTINEL_NAME, sentinelPassword: env.REDIS_SENTINEL_PASSWORD, password },
      ...common,
    };
  }
  if (env.REDIS_CLUSTER_NODES !== undefined) return { target: { kind: 'cluster', nodes: env.REDIS_CLUSTER_NODES, password }, ...common };
  if (env.REDIS_URL !== undefined) return { target: { kind: 'server', url: env.REDIS_URL }, ...common };
  if (env.REDIS_HOST === undefined && env.REDIS_PORT === undefined) return undefined;
  const url = new URL('redis://localhost');
  url.hostname = env.REDIS_HOST ?? '127.0.0.1';
  url.port = String(env.REDIS_PORT ?? 6379);
  if (password !== undefined) url.password = password;
  return { target: { kind: 'server', url: url.toString() }, ...common };
}
