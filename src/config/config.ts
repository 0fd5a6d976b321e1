/** The validated, frozen configuration every component receives from the composition root. */
export type SessionPolicy = 'multi' | 'api' | 'latest';
export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface JwtConfig {
  /** HMAC secret (JWT_SECRET). Exactly one of secret, publicKeyPem, jwksUrl is set. */
  readonly secret: string | undefined;
  readonly publicKeyPem: string | undefined;
  readonly jwksUrl: string | undefined;
  /** Accepted `alg` values; never contains `none`. */
  readonly algorithms: readonly string[];
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
  readonly clockToleranceS: number;
  /** Claim read for the user id before falling back to `sub`. */
  readonly userClaim: string;
  /** Claim read for the session id before falling back to `sid`. */
  readonly sessionClaim: string;
  /** Claim listing the rooms (names or `*` patterns) the token lets its socket join. */
  readonly roomsClaim: string;
  /** Claim naming the seed-000 client (tenant) whose namespaces the token may connect to. */
  readonly clientIdClaim: string;
  /** Claim listing the token's permissions (`requirePermission`, EVENT_PERMISSIONS). */
  readonly permissionsClaim: string;
}

/** The built-in auth service (seeds 000 and 004): login, refresh, logout, password change. */
export interface AuthServiceConfig {
  /** Its own listener's port (0 = any free port), or `same`: mounted under `/auth` on the gateway's port. */
  readonly port: number | 'same';
  readonly accessTokenSecret: string;
  readonly refreshTokenSecret: string;
  /** `POST /login { accessKey }` opens an admin session with this key; `undefined` = admin login off. */
  readonly accessKey: string | undefined;
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlS: number;
  /** Seed 004: a login on a device whose access token is still valid returns that token. */
  readonly reuseAccessToken: boolean;
  /** Your backend checks usernames and passwords (`undefined` = the built-in user store). */
  readonly verifyUser: { readonly url: string; readonly timeoutMs: number } | undefined;
  readonly loginMaxFailures: number;
  readonly loginFailureWindowMs: number;
  /** How often this node polls account events (users disabled from the CLI). */
  readonly accountEventsPollMs: number;
}

/** A client event (name or `*` pattern) that needs a permission. */
export interface EventPermission {
  readonly event: string;
  readonly permission: string;
}

/** How clients are authenticated: see `src/auth/create-auth-strategy.ts`. */
export type AuthStrategyName = 'jwt' | 'introspection' | 'none';

/** The RFC 7662-style token introspection endpoint used by AUTH_STRATEGY=introspection. */
export interface IntrospectionConfig {
  /** Endpoint that receives `POST { "token": … }` as JSON. */
  readonly url: string;
  /** Upper bound on one introspection request; past it the check is AUTH_UNAVAILABLE. */
  readonly timeoutMs: number;
  /** How long a positive answer is reused (never past the token's `exp`); 0 = no cache. */
  readonly cacheTtlMs: number;
}

/** Where the Redis engine connects; absent when the in-memory engine is used. */
export interface RedisConfig {
  /** `redis://` or `rediss://` URL (built from REDIS_HOST/PORT/PASS when REDIS_URL is not set). */
  readonly url: string;
  /** Prefix of every key and channel, so several deployments can share one Redis. */
  readonly prefix: string;
  /**
   * Socket.IO adapter for fan-out: `streams` (Redis Streams; survives Redis blips and serves recovery on
   * any node) or `pubsub` (classic pub/sub; cheaper, but loses messages across Redis outages and recovers
   * clients only on the node they left).
   */
  readonly adapter: 'streams' | 'pubsub';
}

export interface Config {
  readonly nodeEnv: NodeEnv;
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  /** The active client-authentication strategy (AUTH_STRATEGY). */
  readonly authStrategy: AuthStrategyName;
  /** Failed token checks let the socket in as an anonymous user instead of refusing it (never in production). */
  readonly authSoftFail: boolean;
  readonly jwt: JwtConfig;
  /** Set when `authStrategy` is `introspection`. */
  readonly introspection: IntrospectionConfig | undefined;
  readonly apiKeys: readonly string[];
  /** `'*'` or the exact origins (scheme://host[:port]) allowed for HTTP CORS and socket handshakes. */
  readonly corsOrigin: '*' | readonly string[];
  /** Seed 001's ALLOW_REQUEST_DOMAINS: lower-case domains an Origin's host must be (or be under); empty = no check. */
  readonly allowRequestDomains: readonly string[];
  readonly allowQueryToken: boolean;
  readonly internalEvents: readonly string[];
  readonly sessionPolicy: SessionPolicy;
  readonly maxPayloadBytes: number;
  readonly maxBatchSize: number;
  /** How long a socket whose token expired may stay connected waiting for `auth:refresh`. */
  readonly tokenExpiryGraceMs: number;
  /** Time between /readyz turning 503 and the node closing its clients and listener. */
  readonly shutdownDelayMs: number;
  /** Upper bound on the whole shutdown; past it the process exits anyway (code 1). */
  readonly shutdownTimeoutMs: number;
  /** Room patterns any authenticated socket may join (`*` in development when unset, none in production). */
  readonly publicRooms: readonly string[];
  readonly maxRoomsPerSocket: number;
  /** Events a socket may send per second (bursts of twice that); past it RATE_LIMITED, then disconnect. */
  readonly clientEventsPerSecond: number;
  /** Event names (`*` patterns) clients may send to the rooms they are in. */
  readonly clientEvents: readonly string[];
  /** Lifetime of join tokens minted by `POST /v1/join-tokens` unless the request says otherwise. */
  readonly joinTokenTtlS: number;
  /** Seed 000: where the durable client registry lives (SQLite file) with the memory engine. */
  readonly dataDir: string;
  /** Seed 000: the transaction events clients may subscribe to; `undefined` routes list = API off. */
  readonly transactionEvents: readonly string[];
  /** Seed 000: whether the transaction routes (`/client`, `/event`, `/completed`, …) are mounted at the root. */
  readonly transactionsApi: boolean;
  /** Where seed 002's `POST /{eventName}` route is mounted (`/` = the root, as the seed shows). */
  readonly gatewayBasePath: string;
  /** Backend webhooks (member.added, room.occupied, …); `url` undefined = off. */
  readonly webhooks: {
    readonly url: string | undefined;
    readonly secret: string | undefined;
    /** Hosts any webhook may target (exact, or `*.suffix`); empty = any. */
    readonly allowedHosts: readonly string[];
  };
  /** Redis engine settings; `undefined` selects the in-memory engine. */
  readonly redis: RedisConfig | undefined;
  /** How long a dropped client can come back and get what it missed (Socket.IO connection-state recovery); 0 = off. */
  readonly recoveryWindowMs: number;
  /** How often each node refreshes its presence in Redis; a node silent for 2× this is considered gone. */
  readonly presenceHeartbeatMs: number;
  /** Messages kept per room for history reads; 0 turns room history off. */
  readonly historySize: number;
  /** How long a room's history is kept after its last publish. */
  readonly historyTtlMs: number;
  /** The built-in auth service; `undefined` when off. */
  readonly authService: AuthServiceConfig | undefined;
  /** PostgreSQL for the auth service's users and sessions; `undefined` = SQLite under `dataDir`. */
  readonly databaseUrl: string | undefined;
  /** Seed 004's token table: also refuse tokens of revoked sessions and disabled users at the handshake and on refresh. */
  readonly tokenStateCheck: boolean;
  /** How long a session's state is reused (TOKEN_STATE_CHECK, user tokens on `/v1`, recovered sockets); 0 = no cache. */
  readonly tokenStateCacheMs: number;
  /** Fastify's `trustProxy`: which proxies' X-Forwarded-For names the client IP (login throttle); false = none. */
  readonly trustProxy: boolean | number | readonly string[];
  /** EVENT_PERMISSIONS: client events that need a permission. */
  readonly eventPermissions: readonly EventPermission[];
  /** Secrets generated for this run because none were configured (development only). */
  readonly generated: {
    readonly apiKey: string | undefined;
    readonly jwtSecret: string | undefined;
    /** The auth service's access key, when AUTH_SERVICE=on in development without ACCESS_KEY. */
    readonly accessKey: string | undefined;
  };
}
