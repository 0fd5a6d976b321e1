/**
 * Where the Redis engine finds Redis, as the configuration says it (`config.redis.target`): one server by
 * URL (REDIS_URL or the split form), or the master a set of Sentinels names (REDIS_SENTINELS). Every
 * connection a node opens is built from it in one place (`src/stores/redis-client.ts`); another topology
 * (e.g. Redis Cluster) is one more kind here and one more branch there.
 */
export type RedisTarget = RedisServerTarget | RedisSentinelTarget;

/** One Redis server: `redis://[:password@]host:port/db` or `rediss://…`. */
export interface RedisServerTarget {
  readonly kind: 'server';
  readonly url: string;
}

/** The master that the Sentinels monitor under `name`; after a failover, the replica they promote. */
export interface RedisSentinelTarget {
  readonly kind: 'sentinel';
  readonly sentinels: readonly { readonly host: string; readonly port: number }[];
  readonly name: string;
  /** The Sentinels' own password (REDIS_SENTINEL_PASSWORD). */
  readonly sentinelPassword: string | undefined;
  /** The master's (and its replicas') password (REDIS_PASS / REDIS_AUTH_PASSWORD). */
  readonly password: string | undefined;
}

/** The variables that point at `target`, for messages that tell an operator what to fix. */
export function redisTargetVariables(target: RedisTarget, env: Readonly<Record<string, string | undefined>>): string {
  if (target.kind === 'sentinel') return 'REDIS_SENTINELS/REDIS_SENTINEL_NAME';
  return env.REDIS_URL === undefined ? 'REDIS_HOST/REDIS_PORT' : 'REDIS_URL';
}

/**
 * `target` for people to read, without its passwords: the URL with its password replaced by `redact`, or
 * `master "name" via Sentinels host:port, …`.
 */
export function describeRedisTarget(target: RedisTarget, redact: (url: string) => string): string {
  if (target.kind === 'server') return redact(target.url);
  const sentinels = target.sentinels.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(', ');
  return `master "${target.name}" via Sentinels ${sentinels}`;
}
