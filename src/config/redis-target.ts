/**
 * Where the Redis engine finds Redis, as the configuration says it (`config.redis.target`): one server by
 * URL (REDIS_URL or the split form), or the master a set of Sentinels names (REDIS_SENTINELS). Every
 * connection a node opens is built from it in one place (`src/stores/redis-client.ts`), or a Redis
 * Cluster reached through some of its nodes (REDIS_CLUSTER_NODES).
 */
export type RedisTarget = RedisServerTarget | RedisSentinelTarget | RedisClusterTarget;

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

/** A Redis Cluster: some of its nodes to start from (the others, and which master owns which slot, are asked of them). */
export interface RedisClusterTarget {
  readonly kind: 'cluster';
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  /** Every node's password (REDIS_PASS / REDIS_AUTH_PASSWORD). */
  readonly password: string | undefined;
}

/** The variables that point at `target`, for messages that tell an operator what to fix. */
export function redisTargetVariables(target: RedisTarget, env: Readonly<Record<string, string | undefined>>): string {
  if (target.kind === 'sentinel') return 'REDIS_SENTINELS/REDIS_SENTINEL_NAME';
  if (target.kind === 'cluster') return 'REDIS_CLUSTER_NODES';
  return env.REDIS_URL === undefined ? 'REDIS_HOST/REDIS_PORT' : 'REDIS_URL';
}

/**
 * `target` for people to read, without its passwords: the URL with its password replaced by `redact`,
 * `master "name" via Sentinels host:port, …` or `Redis Cluster via host:port, …`.
 */
export function describeRedisTarget(target: RedisTarget, redact: (url: string) => string): string {
  if (target.kind === 'server') return redact(target.url);
  if (target.kind === 'cluster') return `Redis Cluster via ${hostPorts(target.nodes)}`;
  return `master "${target.name}" via Sentinels ${hostPorts(target.sentinels)}`;
}

function hostPorts(addresses: readonly { readonly host: string; readonly port: number }[]): string {
  return addresses.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(', ');
}
