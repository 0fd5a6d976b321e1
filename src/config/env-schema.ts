import { z } from 'zod';

declare module 'zod' {
  interface GlobalMeta {
    /** What leaving a variable unset means, for variables whose default is not a plain value (`generated in development`). */
    unset?: string;
    /** The value is a credential: `switchboard check-config` masks it, and no log line may hold it. */
    secret?: boolean;
  }
}

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
export const duration = z
  .string()
  .regex(/^\d+(s|m|h|d)?$/, { message: 'must be seconds or a duration like 15m, 12h, 30d' })
  .transform((v) => Number.parseInt(v, 10) * ({ s: 1, m: 60, h: 3600, d: 86_400 }[v.at(-1) ?? 's'] ?? 1))
  .pipe(z.number().int().min(1, { message: 'must be at least 1 second' }).max(10 * 365 * 86_400, { message: 'must be at most 10 years' }));

const splitList = (value: string): string[] => value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
const commaList = z.string().transform(splitList);

const text = z.string().min(1);
const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });
const authStrategy = z.enum(['jwt', 'introspection', 'none']);

/** CORS_ORIGIN: `*`, or origins (scheme://host[:port], no path), kept as written. */
const origins = text
  .transform((value): '*' | string[] => (value.trim() === '*' ? '*' : splitList(value)))
  .superRefine((value, ctx) => {
    if (value === '*') return;
    for (const origin of value) {
      const bare = origin.replace(/\/+$/, '').toLowerCase();
      if (!URL.canParse(bare) || new URL(bare).origin !== bare) ctx.addIssue(`"${origin}" is not an origin (scheme://host[:port], no path)`);
    }
  });

/**
 * REDIS_SENTINELS, REDIS_CLUSTER_NODES: `host:port` entries (a host name, an IPv4 address or a bracketed
 * IPv6 address), at least one; `what` names an entry in the messages.
 */
const hostPortList = (what: string, example: string) => commaList
  .superRefine((entries, ctx) => {
    if (entries.length === 0) ctx.addIssue(`list at least one ${what} as host:port`);
    for (const entry of entries) {
      const port = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(entry)?.[1];
      if (port === undefined || Number(port) < 1 || Number(port) > 65535) ctx.addIssue(`"${entry}" is not host:port (e.g. ${example})`);
    }
  })
  .transform((entries) => entries.map((entry) => {
    const at = entry.lastIndexOf(':');
    return { host: entry.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(entry.slice(at + 1)) };
  }));

/** TRANSACTION_EVENTS: each name is also a route (`POST /{event}`), so URL-safe and not one of the other routes. */
const transactionEvents = commaList.superRefine((events, ctx) => {
  for (const event of events) {
    if (!/^[A-Za-z0-9._~-]{1,128}$/.test(event) || event === 'client' || event === 'event') {
      ctx.addIssue(`"${event}" is not usable (URL-safe characters only, and not "client" or "event", which are routes)`);
    }
  }
});

/** EVENT_PERMISSIONS: `event=permission` pairs (the event may be a `*` pattern and contain `=`). */
const eventPermissions = commaList
  .transform((pairs) => pairs.map((pair) => {
    const at = pair.lastIndexOf('=');
    return { pair, event: pair.slice(0, at).trim(), permission: pair.slice(at + 1).trim() };
  }))
  .superRefine((entries, ctx) => {
    for (const { pair, event, permission } of entries) {
      if (!pair.includes('=') || event.length === 0 || permission.length === 0) ctx.addIssue(`"${pair}" is not event=permission`);
    }
  })
  .transform((entries) => entries.map(({ event, permission }) => ({ event, permission })));

/** TRUST_PROXY: `true`/`false`, a hop count, or a comma list of addresses and CIDRs. */
const trustProxy = text.transform((value): boolean | number | string[] => {
  if (value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return splitList(value);
});

/** ALLOW_REQUEST_DOMAINS: lower-case, without a leading `*.` or `.`. */
const domains = commaList.transform((list) => list.map((domain) => domain.toLowerCase().replace(/^\*?\./, '')));

/**
 * The environment variables Switchboard reads, declared once: each with its parser, its default (written
 * as the string an operator would set, so docs/configuration.md's table can show it as is) and a one-line doc. Each
 * variable parses on its own here; rules across variables are in `config-rules.ts`. `test/config.test.ts`
 * checks docs/configuration.md's table against {@link describeVariables}.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).prefault('development')
    .describe('`production` requires secrets and never generates any; `development`/`test` generate missing ones'),
  PORT: integer(0, 65535).prefault('3000').describe('HTTP and Socket.IO port (`0` picks a free port)'),
  HOST: text.prefault('0.0.0.0').describe('listen address'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).prefault('info').describe('pino log level'),
  LOG_SAMPLE_INTERVAL_MS: integer(100, 86_400_000).prefault('60000').describe('window of the log lines clients can repeat (refused handshakes, flooding sockets): each is written once per connection and once per address or code per window, then summarized with a count'),

  AUTH_STRATEGY: authStrategy.optional().meta({
    description: 'how clients are authenticated: `jwt`, `introspection` (RFC 7662 endpoint) or `none` (everyone anonymous; refused in production)',
    unset: '`jwt`',
  }),
  IDAE_SOCKET_AUTH_STRATEGY: authStrategy.optional().describe('seed-002 alias of AUTH_STRATEGY, used when it is unset'),
  AUTH_SOFT_FAIL: boolean.prefault('false').describe('let sockets whose token fails its check in as anonymous users; refused in production'),
  INTROSPECTION_URL: httpUrl.optional().describe('token introspection endpoint (POST `{ token }` as JSON); required with AUTH_STRATEGY=introspection'),
  IDAE_SOCKET_INTROSPECTION_URL: httpUrl.optional().describe('seed-002 alias of INTROSPECTION_URL, used when it is unset'),
  INTROSPECTION_TIMEOUT_MS: integer(100, 60_000).prefault('2000').describe('longest an introspection request may take before the handshake is AUTH_UNAVAILABLE'),
  INTROSPECTION_CACHE_S: integer(0, 3600).prefault('30').describe('seconds a positive introspection answer is reused (never past `exp`); 0 = ask every time'),

  JWT_SECRET: text.optional().meta({
    description: 'HMAC secret for client tokens',
    unset: '`ACCESS_TOKEN_SECRET` with the auth service on, else generated in development',
    secret: true,
  }),
  IDAE_SOCKET_JWT_SECRET: text.optional().describe('seed-002 alias of JWT_SECRET, used when it is unset').meta({ secret: true }),
  JWT_PUBLIC_KEY: text.transform((pem) => pem.replace(/\\n/g, '\n')).optional().describe('PEM public key instead of a secret (`\\n` escapes accepted)'),
  JWT_JWKS_URL: httpUrl.optional().describe('JWKS endpoint instead of a secret'),
  JWT_ALGORITHMS: commaList.prefault('HS256').describe('accepted `alg`s; never `none`, and they must fit the key'),
  JWT_ISSUER: text.optional().describe('required `iss`'),
  JWT_AUDIENCE: text.optional().describe('required `aud`'),
  JWT_CLOCK_TOLERANCE: integer(0, 3600).prefault('30').describe('seconds of leeway for `exp`/`nbf` at the handshake'),
  JWT_USER_CLAIM: text.prefault('user_id').describe('claim holding the user id (falls back to `sub`)'),
  JWT_SESSION_CLAIM: text.prefault('session_id').describe('claim holding the session id (falls back to `sid`)'),

  API_KEYS: commaList.optional().meta({ description: 'comma list of API keys (several, to rotate)', unset: 'generated in development', secret: true }),
  INTERNAL_SECRET: text.optional().describe('seed-003 alias: the API key when API_KEYS is unset').meta({ secret: true }),
  AUTH_TOKEN: text.optional().describe('seed-003 alias, used when API_KEYS and INTERNAL_SECRET are unset').meta({ secret: true }),
  SECRET_KEY: text.optional().describe('seed-003 alias, used when the three above are unset').meta({ secret: true }),

  CORS_ORIGIN: origins.optional().meta({
    description: '`*` or origins allowed for HTTP CORS and socket handshakes',
    unset: '`*` in development, none in production (unless `ALLOW_REQUEST_DOMAINS` is set)',
  }),
  ALLOW_QUERY_TOKEN: boolean.prefault('false').describe('accept `?token=` on the handshake'),
  INTERNAL_EVENTS: commaList.prefault('profile:update,account:update,auth:logout').describe('events `/internal/emit` may send'),
  SESSION_POLICY: z.enum(['multi', 'api', 'latest']).prefault('api').describe('which of a user\'s sessions may stay connected: `multi`, `api` or `latest`'),
  MAX_PAYLOAD_BYTES: integer(1024, 100 * 1024 * 1024).prefault('1048576').describe('largest HTTP body and socket packet'),
  MAX_PENDING_HANDSHAKES_PER_IP: integer(0, 1_000_000).prefault('256').describe('Engine.IO sessions one client address may hold before a socket of theirs is accepted; 0 = no per-address cap'),
  MAX_PENDING_HANDSHAKES: integer(1, 10_000_000).prefault('10000').describe('Engine.IO sessions the node holds before a socket of theirs is accepted'),
  CONNECTIONS_PER_IP_PER_S: integer(0, 1_000_000).prefault('50').describe('new connections (Engine.IO handshakes) one client address may start per second, past the burst; 0 = no limit'),
  CONNECTIONS_BURST: integer(1, 10_000_000).prefault('200').describe('new connections one client address may start at once after being quiet'),
  MAX_CONNECTIONS_PER_IP: integer(0, 10_000_000).prefault('0').describe('connections one client address may hold open at once; 0 = no cap'),
  MAX_CONNECTIONS_PER_USER: integer(0, 10_000_000).prefault('100').describe('connections one user may hold open on one node; 0 = no cap'),
  MAX_FAILED_HANDSHAKES_PER_CONNECTION: integer(0, 1_000_000).prefault('10').describe('failed Socket.IO handshakes (CONNECT packets refused) one connection may have before it is closed; 0 = no cap'),
  FAILED_HANDSHAKES_PER_IP_PER_MIN: integer(0, 10_000_000).prefault('60').describe('failed handshakes one client address may have per minute (a bucket of that size); past it its handshakes are refused with RATE_LIMITED before any token is checked; 0 = no limit'),
  HTTP_RATE_LIMIT_PER_S: integer(0, 10_000_000).prefault('0').describe('HTTP API requests per second per credential (else per client address); 0 = no limit'),
  HTTP_REQUEST_TIMEOUT_MS: integer(100, 3_600_000).prefault('30000').describe('longest an HTTP request may take to arrive (headers and body) before its connection is closed'),
  API_DOCS: boolean.prefault('true').describe('serve the API\'s descriptions (`/openapi.json`, `/asyncapi.json`) and their reference page `/docs`, without a key'),
  CLIENT_BUNDLE: boolean.prefault('true').describe('serve the browser Client SDK (`npm run build`) at `/client/switchboard.min.js`, for a `<script>` tag'),
  PING_INTERVAL_MS: integer(100, 600_000).prefault('25000').describe('how often the server pings each client (Socket.IO `pingInterval`)'),
  PING_TIMEOUT_MS: integer(100, 600_000).prefault('20000').describe('how long a client has to answer a ping before it is dropped (Socket.IO `pingTimeout`)'),
  CONNECT_TIMEOUT_MS: integer(100, 600_000).prefault('45000').describe('how long a transport may stay without joining a namespace (Socket.IO `connectTimeout`)'),
  MAX_BUFFERED_BYTES: integer(0, 1024 * 1024 * 1024).prefault('4194304').describe('outbound bytes one connection may have queued and unsent (a client that stops reading); past it the connection is closed and the client recovers on reconnect; 0 = no cap'),
  MAX_BATCH_SIZE: integer(1, 10_000).prefault('100').describe('items per `POST /v1/batch`'),
  TOKEN_EXPIRY_GRACE_MS: integer(0, 600_000).prefault('5000').describe('how long a socket whose token expired may stay to send `auth:refresh`'),
  WORKERS: z.union([z.literal('auto'), integer(1, 1024)]).prefault('1')
    .describe('gateway processes on this machine sharing PORT: a number, or `auto` = one per core; more than 1 needs the Redis engine (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)'),
  SHUTDOWN_DELAY_MS: integer(0, 600_000).prefault('0').describe('time between `/readyz` turning 503 and the node closing its clients and listener'),
  SHUTDOWN_TIMEOUT_MS: integer(100, 600_000).prefault('10000').describe('upper bound on the whole shutdown; past it the process exits with code 1'),
  METRICS: boolean.prefault('true').describe('count and serve Prometheus metrics (`GET /metrics` behind an API key); `false` = nothing is counted'),
  METRICS_PORT: integer(0, 65535).optional().meta({
    description: 'a second listener serving only `/metrics`, without a key, for in-cluster scraping (`0` = any free port); never expose it publicly',
    unset: '— (none)',
  }),

  HTTP_API_KEY: text.optional().describe('seed 001: one more accepted API key').meta({ secret: true }),
  ALLOW_REQUEST_DOMAINS: domains.optional().describe('seed 001: domains an `Origin` host must be (or be under); unset = no check'),
  PUBLIC_ROOMS: commaList.optional().meta({
    description: 'room patterns any authenticated socket may join',
    unset: '`*` in development, none in production',
  }),
  MAX_ROOMS_PER_SOCKET: integer(1, 100_000).prefault('100').describe('rooms a socket may join besides its own'),
  JWT_ROOMS_CLAIM: text.prefault('rooms').describe('claim listing the rooms (names or `*` patterns) a token\'s socket may join'),
  JOIN_TOKEN_TTL_S: integer(1, 30 * 86_400).prefault('60').describe('lifetime of join tokens minted by `POST /v1/join-tokens` unless the request says otherwise'),
  CLIENT_EVENTS_PER_SECOND: integer(1, 100_000).prefault('20').describe('events a socket may send per second (bursts of twice that)'),
  DIRECT_MESSAGE_SCOPE: z.enum(['any', 'shared-room']).prefault('any').describe('whom `single-chat/send-message` may reach: `any` socket or user, or only those in a room the sender joined (`shared-room`)'),
  CLIENT_EVENTS: commaList.default([]).meta({ description: 'event names (`*` patterns) clients may send to the rooms they are in', unset: 'none' }),
  WEBHOOK_URL: httpUrl.optional().describe('where backend webhooks (member.added, room.occupied, …) are POSTed; unset = off'),
  WEBHOOK_SECRET: text.optional().describe('HMAC key that signs every webhook; required with WEBHOOK_URL in production').meta({ secret: true }),
  WEBHOOK_ALLOWED_HOSTS: commaList.optional().meta({ description: 'hosts webhooks may target (exact, or `*.suffix`)', unset: 'any' }),

  DATA_DIR: text.prefault('./data').describe('seed 000: directory of the SQLite client registry (memory engine)'),
  TRANSACTION_EVENTS: transactionEvents.prefault('completed,cancelled,denied,declined').describe('seed 000: transaction events clients may subscribe to'),
  TRANSACTIONS_API: boolean.prefault('true').describe('seed 000: mount `/client`, `/event`, `/completed`, … at the root'),
  INTERNAL_API: boolean.prefault('true').describe('seed 003: mount the `/internal` routes'),
  CHANNEL_EVENTS_API: boolean.prefault('true').describe('seed 001: mount the `/api/socket` routes'),
  EVENT_GATEWAY_API: boolean.prefault('true').describe('seed 002: mount `POST /{eventName}` under GATEWAY_BASE_PATH'),
  JWT_CLIENT_ID_CLAIM: text.prefault('clientId').describe('seed 000: claim naming the client whose namespaces a token may connect to'),
  GATEWAY_EMIT: z.enum(['payload', 'body']).prefault('payload').describe('seed 002: what the event gateway emits, the request\'s `payload` or its whole `body`'),
  GATEWAY_BASE_PATH: z.string().regex(/^\/([A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*)?$/, { message: 'must be / or a path like /events' }).prefault('/events')
    .describe('where seed 002\'s `POST /{eventName}` route is mounted (`/` = the root)'),

  AUTH_SERVICE: boolean.optional().meta({
    description: 'the auth service (seeds 000/004): `on` (generated secrets in development) or `off`',
    unset: 'on when `ACCESS_TOKEN_SECRET` is set',
  }),
  AUTH_PORT: z.union([z.literal('same'), integer(0, 65535)]).prefault('4000').describe('port of the auth service\'s own listener, or `same` to mount it under /auth on PORT'),
  ACCESS_TOKEN_SECRET: text.optional().describe('HMAC secret access tokens are signed with; the gateway verifies with it when JWT_SECRET is unset').meta({ secret: true }),
  REFRESH_TOKEN_SECRET: text.optional().describe('HMAC secret refresh tokens are signed with; must differ from ACCESS_TOKEN_SECRET').meta({ secret: true }),
  ACCESS_KEY: text.optional().meta({ description: '`POST /login { accessKey }` with this value opens an admin session', unset: '— (admin login off)', secret: true }),
  ACCESS_TOKEN_TTL: duration.prefault('900').describe('access token lifetime: seconds or `15m`, `12h`, `30d`'),
  REFRESH_TOKEN_TTL: duration.prefault('2592000').describe('refresh token lifetime, same forms; longer than ACCESS_TOKEN_TTL'),
  REUSE_ACCESS_TOKEN: boolean.prefault('false').describe('seed 004: a login on a device whose access token is still valid returns that token'),
  TOKEN_STATE_CHECK: boolean.prefault('false').describe('seed 004: also refuse tokens of revoked sessions and disabled users (handshake, refresh)'),
  TOKEN_STATE_CACHE_MS: integer(0, 600_000).prefault('5000').describe('how long a session\'s state is reused; 0 = ask the store every time'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, message: 'must be a postgres:// or postgresql:// URL' }).optional()
    .meta({ description: 'PostgreSQL for the auth service\'s users and sessions, shared by several nodes', unset: '— (SQLite under `DATA_DIR`)' }),
  VERIFY_USER_URL: httpUrl.optional().meta({ description: 'your backend checks usernames and passwords (POST `{ username, password }`)', unset: '— (built-in user store)' }),
  VERIFY_USER_TIMEOUT_MS: integer(100, 60_000).prefault('3000').describe('longest a VERIFY_USER_URL request may take'),
  LOGIN_MAX_FAILURES: integer(1, 1_000_000).prefault('10').describe('failed logins allowed per username and per IP within the window before 429'),
  LOGIN_FAILURE_WINDOW_S: integer(1, 86_400).prefault('900').describe('the failed-login window'),
  ACCOUNT_EVENTS_POLL_MS: integer(100, 600_000).prefault('1000').describe('how often each node reads account events (users disabled from the CLI)'),
  TRUST_PROXY: trustProxy.optional().meta({ description: 'which proxies\' X-Forwarded-For names the client IP: `true`, a hop count, or addresses/CIDRs', unset: '— (none)' }),
  JWT_PERMISSIONS_CLAIM: text.prefault('permissions').describe('claim listing a token\'s permissions'),
  EVENT_PERMISSIONS: eventPermissions.default([]).meta({ description: '`event=permission` pairs: client events that need a permission', unset: 'none' }),

  ADMIN_UI: boolean.prefault('true').describe('serve the admin dashboard at `/admin` (signed in with an API key or an admin token)'),
  ADMIN_SESSION_TTL_S: integer(60, 86_400).prefault('900').describe('lifetime of an admin dashboard session (never past the signing-in token\'s `exp`)'),

  REDIS_URL: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' }).optional().describe('use the Redis engine (several nodes as one); unset (and no REDIS_SENTINELS or REDIS_CLUSTER_NODES) = the in-memory engine'),
  REDIS_HOST: text.optional().describe('seeds\' split form, when REDIS_URL is unset'),
  REDIS_PORT: integer(1, 65535).optional().describe('seeds\' split form (6379 when only REDIS_HOST is set)'),
  REDIS_PASS: text.optional().describe('seeds\' split form (seed 003\'s name); with REDIS_SENTINELS, the master\'s password').meta({ secret: true }),
  REDIS_AUTH_PASSWORD: text.optional().describe('seeds\' split form (seed 001\'s name), used when REDIS_PASS is unset (also with REDIS_SENTINELS)').meta({ secret: true }),
  REDIS_SENTINELS: hostPortList('Sentinel', '10.0.0.5:26379').optional().describe('Redis Sentinel instead of REDIS_URL: `host:port` of each Sentinel, comma-separated; they name the master and announce a failover (the master\'s password: REDIS_PASS)'),
  REDIS_SENTINEL_NAME: text.optional().describe('the master\'s name as the Sentinels monitor it (`sentinel monitor <name> …`); required with REDIS_SENTINELS'),
  REDIS_CLUSTER_NODES: hostPortList('cluster node', '10.0.0.5:6379').optional().describe('Redis Cluster instead of REDIS_URL: `host:port` of some of its nodes (the others are discovered), comma-separated; their password: REDIS_PASS'),
  REDIS_SENTINEL_PASSWORD: text.optional().describe('password of the Sentinels themselves (their `requirepass`), when they have one').meta({ secret: true }),
  REDIS_DATA_PREFIX: text.max(100).prefault('switchboard:').describe('prefix of every Redis key and channel'),
  REDIS_ADAPTER: z.enum(['streams', 'pubsub', 'sharded']).prefault('streams').describe('fan-out between nodes: `streams` (Redis Streams), `pubsub` or `sharded` (sharded pub/sub, Redis 7); not `pubsub` with REDIS_CLUSTER_NODES'),
  RECOVERY_WINDOW_MS: integer(0, 86_400_000).prefault('120000').describe('how long a dropped client can come back and get what it missed; 0 = off'),
  PRESENCE_HEARTBEAT_MS: integer(100, 600_000).prefault('5000').describe('how often a node refreshes its presence and beats the Streams adapter\'s heartbeat; silent for twice this = gone'),
  HISTORY_SIZE: integer(0, 10_000).prefault('100').describe('messages kept per room for history reads; 0 = off'),
  HISTORY_TTL_S: integer(1, 30 * 86_400).prefault('86400').describe('how long a room\'s history is kept after its last publish'),
});

/** The variables, each parsed on its own (before aliases are folded in and rules across variables run). */
export type Env = z.output<typeof envSchema>;

/** One row of the configuration table: a variable, its default as documented, and its one-line doc. */
export interface VariableDoc {
  readonly name: string;
  /** The default in backticks, what leaving it unset means, or `—` (unset = off / not used). */
  readonly default: string;
  readonly doc: string;
  /** The default as an operator would write it (`3000`); `undefined` when there is no plain default. */
  readonly defaultValue: string | undefined;
  /** A credential: never shown. */
  readonly secret: boolean;
}

/** Every variable with its documented default and doc, in declaration order. */
export function describeVariables(): VariableDoc[] {
  return Object.entries(envSchema.shape).map(([name, schema]) => {
    const meta = z.globalRegistry.get(schema);
    const defaultValue = schema instanceof z.ZodPrefault ? String(schema.def.defaultValue) : undefined;
    const declared = defaultValue === undefined ? '—' : `\`${defaultValue}\``;
    return { name, default: meta?.unset ?? declared, doc: meta?.description ?? '', defaultValue, secret: meta?.secret === true };
  });
}
