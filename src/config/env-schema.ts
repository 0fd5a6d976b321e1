import { z } from 'zod';

/**
 * The environment variables Switchboard reads, declared once. Every variable here is documented in the
 * README's configuration table with the same default; `test/config.test.ts` keeps the two in step.
 */
const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on');

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(min, { message: `must be at least ${min}` }).max(max, { message: `must be at most ${max}` }));

/** Seconds, or a number with a unit: `900`, `15m`, `12h`, `30d`. */
const duration = z
  .string()
  .regex(/^\d+(s|m|h|d)?$/, { message: 'must be seconds or a duration like 15m, 12h, 30d' })
  .transform((v) => Number.parseInt(v, 10) * ({ s: 1, m: 60, h: 3600, d: 86_400 }[v.at(-1) ?? 's'] ?? 1))
  .pipe(z.number().int().min(1, { message: 'must be at least 1 second' }).max(10 * 365 * 86_400, { message: 'must be at most 10 years' }));

const commaList = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0));

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: integer(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** Client authentication: `jwt` (default), `introspection` (RFC 7662 endpoint) or `none` (everyone anonymous; refused in production). */
  AUTH_STRATEGY: z.enum(['jwt', 'introspection', 'none']).optional(),
  /** Seed-002 alias of AUTH_STRATEGY, used when AUTH_STRATEGY is unset. */
  IDAE_SOCKET_AUTH_STRATEGY: z.enum(['jwt', 'introspection', 'none']).optional(),
  /** Let sockets whose token fails its check (TOKEN_*) in as anonymous users; refused in production. */
  AUTH_SOFT_FAIL: boolean.default(false),
  /** Token introspection endpoint (POST `{ token }` as JSON); required with AUTH_STRATEGY=introspection. */
  INTROSPECTION_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
  /** Seed-002 alias of INTROSPECTION_URL, used when INTROSPECTION_URL is unset. */
  IDAE_SOCKET_INTROSPECTION_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
  /** Milliseconds an introspection request may take before the handshake is refused with AUTH_UNAVAILABLE. */
  INTROSPECTION_TIMEOUT_MS: integer(100, 60_000).default(2000),
  /** Seconds a positive introspection answer is reused (never past the token's `exp`); 0 = ask every time. */
  INTROSPECTION_CACHE_S: integer(0, 3600).default(30),

  JWT_SECRET: z.string().min(1).optional(),
  /** Seed-002 alias of JWT_SECRET, used when JWT_SECRET is unset. */
  IDAE_SOCKET_JWT_SECRET: z.string().min(1).optional(),
  JWT_PUBLIC_KEY: z.string().min(1).optional(),
  JWT_JWKS_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
  JWT_ALGORITHMS: commaList.default(['HS256']),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_CLOCK_TOLERANCE: integer(0, 3600).default(30),
  JWT_USER_CLAIM: z.string().min(1).default('user_id'),
  JWT_SESSION_CLAIM: z.string().min(1).default('session_id'),

  API_KEYS: commaList.optional(),
  INTERNAL_SECRET: z.string().min(1).optional(),
  AUTH_TOKEN: z.string().min(1).optional(),
  SECRET_KEY: z.string().min(1).optional(),

  CORS_ORIGIN: z.string().min(1).optional(),
  ALLOW_QUERY_TOKEN: boolean.default(false),
  INTERNAL_EVENTS: commaList.default(['profile:update', 'account:update', 'auth:logout']),
  SESSION_POLICY: z.enum(['multi', 'api', 'latest']).default('api'),
  MAX_PAYLOAD_BYTES: integer(1024, 100 * 1024 * 1024).default(1024 * 1024),
  MAX_BATCH_SIZE: integer(1, 10_000).default(100),
  TOKEN_EXPIRY_GRACE_MS: integer(0, 600_000).default(5000),
  SHUTDOWN_DELAY_MS: integer(0, 600_000).default(0),
  SHUTDOWN_TIMEOUT_MS: integer(100, 600_000).default(10_000),

  HTTP_API_KEY: z.string().min(1).optional(),
  ALLOW_REQUEST_DOMAINS: commaList.optional(),
  PUBLIC_ROOMS: commaList.optional(),
  MAX_ROOMS_PER_SOCKET: integer(1, 100_000).default(100),
  JWT_ROOMS_CLAIM: z.string().min(1).default('rooms'),
  JOIN_TOKEN_TTL_S: integer(1, 30 * 86_400).default(60),
  CLIENT_EVENTS_PER_SECOND: integer(1, 100_000).default(20),
  CLIENT_EVENTS: commaList.default([]),
  WEBHOOK_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
  WEBHOOK_SECRET: z.string().min(1).optional(),
  WEBHOOK_ALLOWED_HOSTS: commaList.optional(),

  /** Seed 000: directory of the SQLite client registry (memory engine). */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Seed 000: transaction events clients may subscribe to. */
  TRANSACTION_EVENTS: commaList.default(['completed', 'cancelled', 'denied', 'declined']),
  /** Seed 000: mount /client, /event, /completed, … at the root. */
  TRANSACTIONS_API: boolean.default(true),
  /** Seed 000: JWT claim naming the client a token may connect to. */
  JWT_CLIENT_ID_CLAIM: z.string().min(1).default('clientId'),
  GATEWAY_BASE_PATH: z.string().regex(/^\/([A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*)?$/, { message: 'must be / or a path like /events' }).default('/events'),

  /** Auth service (seeds 000/004): on when ACCESS_TOKEN_SECRET is set unless `off`; `on` starts it with generated secrets in development. */
  AUTH_SERVICE: boolean.optional(),
  /** Port of the auth service's own listener, or `same` to mount it under /auth on PORT. */
  AUTH_PORT: z.union([z.literal('same'), integer(0, 65535)]).default(4000),
  /** HMAC secret access tokens are signed with; the gateway verifies with it when JWT_SECRET is unset. */
  ACCESS_TOKEN_SECRET: z.string().min(1).optional(),
  /** HMAC secret refresh tokens are signed with; must differ from ACCESS_TOKEN_SECRET. */
  REFRESH_TOKEN_SECRET: z.string().min(1).optional(),
  /** `POST /login { accessKey }` with this value opens an admin session; unset = admin login off. */
  ACCESS_KEY: z.string().min(1).optional(),
  ACCESS_TOKEN_TTL: duration.default(900),
  REFRESH_TOKEN_TTL: duration.default(30 * 86_400),
  /** Seed 004: a login on a device whose access token is still valid returns that token. */
  REUSE_ACCESS_TOKEN: boolean.default(false),
  /** Seed 004's token table: refuse tokens of revoked sessions and disabled users too (handshake, refresh). */
  TOKEN_STATE_CHECK: boolean.default(false),
  /** How long TOKEN_STATE_CHECK reuses an answer about a session; 0 = ask the store every time. */
  TOKEN_STATE_CACHE_MS: integer(0, 600_000).default(5000),
  /** PostgreSQL for the auth service's users and sessions (shared by several nodes); unset = SQLite under DATA_DIR. */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, message: 'must be a postgres:// or postgresql:// URL' }).optional(),
  /** Delegate the username/password check to your backend (POST { username, password }). */
  VERIFY_USER_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
  VERIFY_USER_TIMEOUT_MS: integer(100, 60_000).default(3000),
  /** Failed logins allowed per username and per IP within LOGIN_FAILURE_WINDOW_S before 429. */
  LOGIN_MAX_FAILURES: integer(1, 1_000_000).default(10),
  LOGIN_FAILURE_WINDOW_S: integer(1, 86_400).default(900),
  /** How often each node reads account events (a user disabled from the CLI) to disconnect its sockets. */
  ACCOUNT_EVENTS_POLL_MS: integer(100, 600_000).default(1000),
  /** Which proxies to believe about the client IP (X-Forwarded-For): `true`, a hop count, or comma list of addresses/CIDRs. */
  TRUST_PROXY: z.string().min(1).optional(),
  /** Claim listing a token's permissions (`requirePermission`). */
  JWT_PERMISSIONS_CLAIM: z.string().min(1).default('permissions'),
  /** `event=permission` pairs (event may be a `*` pattern): client events that need a permission. */
  EVENT_PERMISSIONS: commaList.default([]),

  REDIS_URL: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' }).optional(),
  REDIS_HOST: z.string().min(1).optional(),
  REDIS_PORT: integer(1, 65535).optional(),
  REDIS_PASS: z.string().min(1).optional(),
  REDIS_AUTH_PASSWORD: z.string().min(1).optional(),
  REDIS_DATA_PREFIX: z.string().min(1).max(100).default('switchboard:'),
  REDIS_ADAPTER: z.enum(['streams', 'pubsub']).default('streams'),
  RECOVERY_WINDOW_MS: integer(0, 86_400_000).default(120_000),
  PRESENCE_HEARTBEAT_MS: integer(100, 600_000).default(5000),
  HISTORY_SIZE: integer(0, 10_000).default(100),
  HISTORY_TTL_S: integer(1, 30 * 86_400).default(86_400),
});

export type Env = z.infer<typeof envSchema>;
