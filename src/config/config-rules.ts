import { createPublicKey } from 'node:crypto';
import type { z } from 'zod';
import { GATEWAY_EVENTS, RESERVED_EVENT_NAMES } from '../protocol/events.js';
import { RoomPattern } from '../protocol/room-pattern.js';
import type { Env } from './env-schema.js';

const HMAC_ALGORITHMS = new Set(['HS256', 'HS384', 'HS512']);
const ASYMMETRIC_ALGORITHMS = new Set([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
]);

/** Which `alg`s each kind of public key can verify (node:crypto's asymmetricKeyType, EC by curve). */
const ALGORITHMS_BY_KEY: Record<string, readonly string[]> = {
  rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'rsa-pss': ['PS256', 'PS384', 'PS512'],
  'ec:prime256v1': ['ES256'],
  'ec:secp384r1': ['ES384'],
  'ec:secp521r1': ['ES512'],
  ed25519: ['EdDSA', 'Ed25519'],
};

/**
 * The path prefixes of the other HTTP surfaces, which seed 002's catch-all event route must not shadow
 * or be shadowed by. At `/` it only takes single-segment POSTs, which no other surface uses.
 */
const SURFACE_PREFIXES: readonly (readonly [string, string])[] = [
  ['/v1', 'the canonical API'], ['/internal', "seed 003's internal routes"], ['/api/socket', "seed 001's channel API"],
  ['/socket.io', 'the Socket.IO endpoint'], ['/healthz', 'the health check'], ['/readyz', 'the readiness check'],
  ['/auth', 'the auth service (AUTH_PORT=same)'],
];

/** The API's descriptions and reference page (API_DOCS), which the catch-all must not shadow either while they are served. */
const API_DOCS_PREFIXES: readonly (readonly [string, string])[] = [
  ['/docs', 'the API reference page (API_DOCS)'], ['/openapi.json', 'the OpenAPI document (API_DOCS)'], ['/asyncapi.json', 'the AsyncAPI document (API_DOCS)'],
];

const MIN_API_KEY_LENGTH = 16;
const MIN_JWT_SECRET_LENGTH = 32;

/** Seed 002's IDAE_SOCKET_* names, each used when its canonical variable is unset. */
const SEED_ALIASES: Partial<Record<keyof Env, keyof Env>> = {
  AUTH_STRATEGY: 'IDAE_SOCKET_AUTH_STRATEGY',
  JWT_SECRET: 'IDAE_SOCKET_JWT_SECRET',
  INTROSPECTION_URL: 'IDAE_SOCKET_INTROSPECTION_URL',
};

/** Folds seed 002's IDAE_SOCKET_* names into their canonical variables; the canonical one wins when both are set. */
export function withSeedAliases(env: Env): Env {
  return {
    ...env,
    AUTH_STRATEGY: env.AUTH_STRATEGY ?? env.IDAE_SOCKET_AUTH_STRATEGY,
    JWT_SECRET: env.JWT_SECRET ?? env.IDAE_SOCKET_JWT_SECRET,
    INTROSPECTION_URL: env.INTROSPECTION_URL ?? env.IDAE_SOCKET_INTROSPECTION_URL,
  };
}

// Facts that several variables decide together, shared by the rules and the mapping to `Config`.
type Variables<Names extends readonly (keyof Env)[]> = Pick<Env, Names[number]>;

const API_KEY_VARIABLES = ['API_KEYS', 'INTERNAL_SECRET', 'AUTH_TOKEN', 'SECRET_KEY', 'HTTP_API_KEY'] as const;
const JWT_KEY_VARIABLES = ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL'] as const;
const AUTH_SERVICE_SWITCH = ['AUTH_SERVICE', 'ACCESS_TOKEN_SECRET'] as const;

export const isProduction = (env: Pick<Env, 'NODE_ENV'>): boolean => env.NODE_ENV === 'production';

export const authStrategyOf = (env: Pick<Env, 'AUTH_STRATEGY'>) => env.AUTH_STRATEGY ?? 'jwt';

/** AUTH_SERVICE, else on when ACCESS_TOKEN_SECRET is set. */
export const authServiceOn = (env: Variables<typeof AUTH_SERVICE_SWITCH>): boolean => env.AUTH_SERVICE ?? env.ACCESS_TOKEN_SECRET !== undefined;

/** How many of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL are set (more than one is refused). */
export const jwtKeyCount = (env: Variables<typeof JWT_KEY_VARIABLES>): number =>
  [env.JWT_SECRET, env.JWT_PUBLIC_KEY, env.JWT_JWKS_URL].filter((v) => v !== undefined).length;

/** The API keys as configured: API_KEYS, else the first of the seed-003 aliases; plus seed 001's HTTP_API_KEY. */
export function configuredApiKeys(env: Variables<typeof API_KEY_VARIABLES>): string[] {
  const alias = [env.INTERNAL_SECRET, env.AUTH_TOKEN, env.SECRET_KEY].find((v) => v !== undefined);
  const keys = env.API_KEYS ?? (alias === undefined ? [] : [alias]);
  return [...keys, ...(env.HTTP_API_KEY === undefined ? [] : [env.HTTP_API_KEY])];
}

/**
 * Whether client tokens have a key to be verified with: one of the JWT_* keys, or (seed 004's "all servers
 * share the same key") the auth service's access-token secret, which development generates when missing.
 */
const hasJwtKey = (env: Variables<[...typeof JWT_KEY_VARIABLES, ...typeof AUTH_SERVICE_SWITCH, 'NODE_ENV']>): boolean =>
  jwtKeyCount(env) > 0 || (authServiceOn(env) && (env.ACCESS_TOKEN_SECRET !== undefined || !isProduction(env)));

type Report = (problem: string) => void;
/** A rule's check, seeing only the variables the rule names (the compiler holds it to them). */
type Check<Name extends keyof Env> = (env: Pick<Env, Name>, problem: Report) => void;

interface Rule {
  readonly reads: readonly (keyof Env)[];
  readonly check: Check<keyof Env>;
}

function rule<Name extends keyof Env>(reads: readonly Name[], check: Check<Name>): Rule {
  return { reads, check };
}

/** The auth service's rules apply only when it is on. */
function authServiceRule<Name extends keyof Env>(reads: readonly Name[], check: Check<Name>): Rule {
  return rule([...AUTH_SERVICE_SWITCH, ...reads], (env, problem) => {
    if (authServiceOn(env)) check(env, problem);
  });
}

/** Production refuses what development tolerates. */
function productionRule<Name extends keyof Env>(reads: readonly Name[], check: Check<Name>): Rule {
  return rule(['NODE_ENV', ...reads], (env, problem) => {
    if (isProduction(env)) check(env, problem);
  });
}

/**
 * The rules across variables (production needs secrets, keys fit algorithms, paths do not collide), in the
 * order their problems are listed. Each names the variables it reads; a rule that reads a variable which
 * failed on its own is skipped (that variable's problem is reported instead), so one pass reports every
 * problem that can be known.
 */
const RULES: readonly Rule[] = [
  rule(['AUTH_STRATEGY', 'INTROSPECTION_URL'], (env, problem) => {
    if (authStrategyOf(env) === 'introspection' && env.INTROSPECTION_URL === undefined) {
      problem('INTROSPECTION_URL (or IDAE_SOCKET_INTROSPECTION_URL) is required when AUTH_STRATEGY=introspection');
    }
  }),
  rule(JWT_KEY_VARIABLES, (env, problem) => {
    if (jwtKeyCount(env) > 1) problem('JWT_SECRET, JWT_PUBLIC_KEY and JWT_JWKS_URL are exclusive: set only one');
  }),
  rule([...JWT_KEY_VARIABLES, 'JWT_ALGORITHMS'], checkAlgorithms),
  rule(['JWT_PUBLIC_KEY', 'JWT_ALGORITHMS'], (env, problem) => {
    if (env.JWT_PUBLIC_KEY !== undefined) checkPublicKey(env.JWT_PUBLIC_KEY, env.JWT_ALGORITHMS, problem);
  }),
  rule(['CLIENT_EVENTS', 'INTERNAL_EVENTS'], (env, problem) => {
    const impersonated = [...GATEWAY_EVENTS, ...env.INTERNAL_EVENTS].filter((event) => env.CLIENT_EVENTS.some((pattern) => new RoomPattern(pattern).matches(event)));
    if (impersonated.length > 0) problem(`CLIENT_EVENTS would let clients send gateway events (${impersonated.join(', ')}): narrow the patterns, e.g. client-*`);
  }),
  // GATEWAY_BASE_PATH is only read while the event gateway is mounted (EVENT_GATEWAY_API).
  rule(['GATEWAY_BASE_PATH', 'TRANSACTIONS_API', 'EVENT_GATEWAY_API'], (env, problem) => {
    if (env.EVENT_GATEWAY_API && env.GATEWAY_BASE_PATH === '/' && env.TRANSACTIONS_API) {
      problem("GATEWAY_BASE_PATH=/ collides with seed 000's transaction routes (/client, /event, /completed, …): set TRANSACTIONS_API=false or another path");
    }
  }),
  rule(['GATEWAY_BASE_PATH', 'EVENT_GATEWAY_API', 'API_DOCS'], ({ GATEWAY_BASE_PATH: path, EVENT_GATEWAY_API: mounted, API_DOCS: docs }, problem) => {
    if (!mounted) return;
    const collision = [...SURFACE_PREFIXES, ...(docs ? API_DOCS_PREFIXES : [])].find(([prefix]) => path !== '/' && (path === prefix || path.startsWith(`${prefix}/`) || prefix.startsWith(`${path}/`)));
    if (collision !== undefined) problem(`GATEWAY_BASE_PATH=${path} collides with ${collision[1]} (${collision[0]}): choose another path`);
  }),
  rule(['INTERNAL_EVENTS'], (env, problem) => {
    const reserved = env.INTERNAL_EVENTS.filter((event) => RESERVED_EVENT_NAMES.has(event));
    if (reserved.length > 0) problem(`INTERNAL_EVENTS: ${reserved.join(', ')} reserved by Socket.IO`);
  }),

  // The auth service: distinct secrets, strong ones in production, a port of its own.
  rule([...AUTH_SERVICE_SWITCH, 'TOKEN_STATE_CHECK'], (env, problem) => {
    if (!authServiceOn(env) && env.TOKEN_STATE_CHECK) problem('TOKEN_STATE_CHECK=true needs the auth service (set ACCESS_TOKEN_SECRET or AUTH_SERVICE=on)');
  }),
  authServiceRule(['REFRESH_TOKEN_SECRET', 'ACCESS_TOKEN_SECRET', 'JWT_SECRET'], (env, problem) => {
    if (env.REFRESH_TOKEN_SECRET !== undefined && (env.REFRESH_TOKEN_SECRET === env.ACCESS_TOKEN_SECRET || env.REFRESH_TOKEN_SECRET === env.JWT_SECRET)) {
      problem('REFRESH_TOKEN_SECRET must differ from ACCESS_TOKEN_SECRET and JWT_SECRET (a refresh token must never pass as an access token)');
    }
  }),
  authServiceRule(['AUTH_PORT', 'PORT'], (env, problem) => {
    if (env.AUTH_PORT !== 'same' && env.AUTH_PORT !== 0 && env.AUTH_PORT === env.PORT) {
      problem(`AUTH_PORT=${env.AUTH_PORT} is the gateway's PORT: choose another port or AUTH_PORT=same (mounted under /auth)`);
    }
  }),
  authServiceRule([...JWT_KEY_VARIABLES, 'JWT_ALGORITHMS'], (env, problem) => {
    if (jwtKeyCount(env) === 0 && !env.JWT_ALGORITHMS.includes('HS256')) problem('JWT_ALGORITHMS must include HS256 to verify the auth service\'s access tokens');
  }),
  authServiceRule(['ACCESS_TOKEN_TTL', 'REFRESH_TOKEN_TTL'], (env, problem) => {
    if (env.ACCESS_TOKEN_TTL >= env.REFRESH_TOKEN_TTL) problem('ACCESS_TOKEN_TTL must be shorter than REFRESH_TOKEN_TTL');
  }),
  authServiceRule(['NODE_ENV', 'ACCESS_TOKEN_SECRET', 'REFRESH_TOKEN_SECRET', 'ACCESS_KEY'], (env, problem) => {
    if (!isProduction(env)) return;
    for (const [name, value] of [['ACCESS_TOKEN_SECRET', env.ACCESS_TOKEN_SECRET], ['REFRESH_TOKEN_SECRET', env.REFRESH_TOKEN_SECRET]] as const) {
      if (value === undefined) problem(`${name} is required for the auth service when NODE_ENV=production`);
      else if (value.length < MIN_JWT_SECRET_LENGTH) problem(`${name} must be at least ${MIN_JWT_SECRET_LENGTH} characters when NODE_ENV=production`);
    }
    if (env.ACCESS_KEY !== undefined && env.ACCESS_KEY.length < MIN_API_KEY_LENGTH) {
      problem(`ACCESS_KEY must be at least ${MIN_API_KEY_LENGTH} characters when NODE_ENV=production`);
    }
  }),

  // Redis: one way to find it — a URL, the split form, the Sentinels that name the master, or a cluster's nodes.
  rule(['REDIS_SENTINELS', 'REDIS_URL', 'REDIS_HOST', 'REDIS_PORT'], (env, problem) => {
    if (env.REDIS_SENTINELS === undefined) return;
    const others = (['REDIS_URL', 'REDIS_HOST', 'REDIS_PORT'] as const).filter((name) => env[name] !== undefined);
    if (others.length > 0) problem(`REDIS_SENTINELS and ${others.join(', ')} are exclusive: with Sentinel the master's address comes from the Sentinels (its password from REDIS_PASS)`);
  }),
  rule(['REDIS_CLUSTER_NODES', 'REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_SENTINELS'], (env, problem) => {
    if (env.REDIS_CLUSTER_NODES === undefined) return;
    const others = (['REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_SENTINELS'] as const).filter((name) => env[name] !== undefined);
    if (others.length > 0) problem(`REDIS_CLUSTER_NODES and ${others.join(', ')} are exclusive: a Redis Cluster is reached through its nodes (their password from REDIS_PASS)`);
  }),
  // On a cluster, keys are hash-tagged (`{…}`) so that what one command or script touches shares a slot.
  rule(['REDIS_CLUSTER_NODES', 'REDIS_ADAPTER', 'REDIS_DATA_PREFIX'], (env, problem) => {
    if (env.REDIS_CLUSTER_NODES === undefined) return;
    if (env.REDIS_ADAPTER === 'pubsub') problem('REDIS_ADAPTER=pubsub does not scale on a Redis Cluster (every PUBLISH goes to every cluster node): use streams (the default) or sharded');
    if (/[{}]/.test(env.REDIS_DATA_PREFIX)) problem('REDIS_DATA_PREFIX must not contain { or } with REDIS_CLUSTER_NODES: braces choose the hash slot of every key');
  }),
  rule(['REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD'], (env, problem) => {
    if (env.REDIS_SENTINELS !== undefined && env.REDIS_SENTINEL_NAME === undefined) problem('REDIS_SENTINEL_NAME (the master\'s name the Sentinels monitor) is required with REDIS_SENTINELS');
    const strays = (['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD'] as const).filter((name) => env.REDIS_SENTINELS === undefined && env[name] !== undefined);
    if (strays.length > 0) problem(`${strays.join(' and ')} ${strays.length > 1 ? 'need' : 'needs'} REDIS_SENTINELS (host:port of each Sentinel)`);
  }),

  // The metrics listener: only with metrics on, and on a port of its own.
  rule(['METRICS', 'METRICS_PORT'], (env, problem) => {
    if (!env.METRICS && env.METRICS_PORT !== undefined) problem('METRICS_PORT needs METRICS=true');
  }),
  rule(['METRICS_PORT', 'PORT'], (env, problem) => {
    if (env.METRICS_PORT !== undefined && env.METRICS_PORT !== 0 && env.METRICS_PORT === env.PORT) {
      problem(`METRICS_PORT=${env.METRICS_PORT} is the gateway's PORT: choose another port (the gateway serves /metrics behind an API key itself)`);
    }
  }),
  authServiceRule(['METRICS_PORT', 'AUTH_PORT'], (env, problem) => {
    if (env.METRICS_PORT !== undefined && env.METRICS_PORT !== 0 && env.METRICS_PORT === env.AUTH_PORT) problem(`METRICS_PORT=${env.METRICS_PORT} is the auth service's AUTH_PORT: choose another port`);
  }),

  // Several worker processes are nodes of one cluster: only the Redis engine shares state between processes.
  rule(['WORKERS', 'REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'], (env, problem) => {
    const redis = [env.REDIS_URL, env.REDIS_HOST, env.REDIS_PORT, env.REDIS_SENTINELS, env.REDIS_CLUSTER_NODES].some((value) => value !== undefined);
    if (env.WORKERS !== 1 && !redis) {
      problem(`WORKERS=${env.WORKERS} needs the Redis engine (set REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES): each worker is its own process, and the in-memory engine cannot share rooms, presence, sessions or recovery between processes`);
    }
  }),

  // Secrets: required in production (development generates the missing ones).
  productionRule(API_KEY_VARIABLES, (env, problem) => {
    if (configuredApiKeys(env).length === 0) problem('API_KEYS (or INTERNAL_SECRET, AUTH_TOKEN, SECRET_KEY, HTTP_API_KEY) is required when NODE_ENV=production');
  }),
  rule(['NODE_ENV', 'AUTH_STRATEGY', 'JWT_ALGORITHMS', ...JWT_KEY_VARIABLES, ...AUTH_SERVICE_SWITCH], (env, problem) => {
    // Only the jwt strategy needs a key; the others get none generated.
    if (hasJwtKey(env) || authStrategyOf(env) !== 'jwt') return;
    if (isProduction(env)) problem('JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL or ACCESS_TOKEN_SECRET is required when NODE_ENV=production');
    else if (env.JWT_ALGORITHMS.some((alg) => !HMAC_ALGORITHMS.has(alg))) problem('JWT_ALGORITHMS lists an asymmetric algorithm but no JWT_PUBLIC_KEY or JWT_JWKS_URL is set');
  }),
  productionRule(['AUTH_STRATEGY'], (env, problem) => {
    if (authStrategyOf(env) === 'none') problem('AUTH_STRATEGY=none lets anyone connect unauthenticated and is refused when NODE_ENV=production');
  }),
  productionRule(['AUTH_SOFT_FAIL'], (env, problem) => {
    if (env.AUTH_SOFT_FAIL) problem('AUTH_SOFT_FAIL=true lets sockets with bad tokens in as anonymous users and is refused when NODE_ENV=production');
  }),
  productionRule(['WEBHOOK_URL', 'WEBHOOK_SECRET'], (env, problem) => {
    if (env.WEBHOOK_URL !== undefined && env.WEBHOOK_SECRET === undefined) problem('WEBHOOK_SECRET is required with WEBHOOK_URL when NODE_ENV=production (receivers must be able to verify deliveries)');
  }),
  productionRule(API_KEY_VARIABLES, (env, problem) => {
    if (configuredApiKeys(env).some((key) => key.length < MIN_API_KEY_LENGTH)) problem(`API keys must be at least ${MIN_API_KEY_LENGTH} characters when NODE_ENV=production`);
  }),
  productionRule(['JWT_SECRET'], (env, problem) => {
    if (env.JWT_SECRET !== undefined && env.JWT_SECRET.length < MIN_JWT_SECRET_LENGTH) {
      problem(`JWT_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters when NODE_ENV=production (RFC 7518: a 256-bit key for HS256)`);
    }
  }),
];

/**
 * The schema's check across variables (`superRefine`, run even when some variables failed on their own).
 * Rules see seed aliases folded in; a variable counts as failed when it, or the alias standing in for it,
 * has a problem already.
 */
export function checkRules(parsed: Env, ctx: z.core.$RefinementCtx<Env>): void {
  const failedOnItsOwn = new Set(ctx.issues.map((issue) => issue.path?.[0]));
  const failed = (name: keyof Env): boolean => {
    const alias = SEED_ALIASES[name];
    return failedOnItsOwn.has(name) || (alias !== undefined && parsed[name] === undefined && failedOnItsOwn.has(alias));
  };
  const env = withSeedAliases(parsed);
  for (const { reads, check } of RULES) {
    if (!reads.some(failed)) check(env, (message) => ctx.addIssue({ code: 'custom', message, path: [] }));
  }
}

function checkAlgorithms(env: Variables<[...typeof JWT_KEY_VARIABLES, 'JWT_ALGORITHMS']>, problem: Report): void {
  for (const alg of env.JWT_ALGORITHMS) {
    if (alg.toLowerCase() === 'none') problem('JWT_ALGORITHMS: "none" is never accepted');
    else if (!HMAC_ALGORITHMS.has(alg) && !ASYMMETRIC_ALGORITHMS.has(alg)) problem(`JWT_ALGORITHMS: unknown algorithm "${alg}"`);
  }
  if (env.JWT_ALGORITHMS.length === 0) problem('JWT_ALGORITHMS: list at least one algorithm');
  const hmac = env.JWT_ALGORITHMS.filter((alg) => HMAC_ALGORITHMS.has(alg));
  const asymmetric = env.JWT_ALGORITHMS.filter((alg) => ASYMMETRIC_ALGORITHMS.has(alg));
  if (env.JWT_SECRET !== undefined && asymmetric.length > 0) {
    problem(`JWT_ALGORITHMS lists ${asymmetric.join(', ')} but JWT_SECRET is an HMAC secret: list only HS256/HS384/HS512`);
  }
  if ((env.JWT_PUBLIC_KEY !== undefined || env.JWT_JWKS_URL !== undefined) && hmac.length > 0) {
    problem(`JWT_ALGORITHMS lists ${hmac.join(', ')} but the key is a public key: list only asymmetric algorithms (e.g. RS256)`);
  }
}

function checkPublicKey(pem: string, algorithms: readonly string[], problem: Report): void {
  let kind: string;
  try {
    const key = createPublicKey(pem);
    kind = key.asymmetricKeyType === 'ec' ? `ec:${key.asymmetricKeyDetails?.namedCurve ?? '?'}` : String(key.asymmetricKeyType);
  } catch {
    problem('JWT_PUBLIC_KEY: not a PEM public key');
    return;
  }
  const fitting = ALGORITHMS_BY_KEY[kind] ?? [];
  const misfits = algorithms.filter((alg) => ASYMMETRIC_ALGORITHMS.has(alg) && !fitting.includes(alg));
  if (misfits.length > 0) {
    problem(`JWT_ALGORITHMS: ${misfits.join(', ')} cannot be verified with this ${kind} key (it fits ${fitting.join(', ') || 'none'})`);
  }
}
