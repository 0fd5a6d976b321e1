import type { RedisClient } from '../stores/redis-client.js';
import type { Logger } from 'pino';
import type { ClientRegistry } from '../stores/client-registry.js';
import { LazyClientRegistry } from '../stores/lazy-client-registry.js';
import type { LoginThrottle, ThrottleLimits } from '../stores/login-throttle.js';
import { MemoryLoginThrottle } from '../stores/memory-login-throttle.js';
import { RedisClientRegistry } from '../stores/redis-client-registry.js';
import { RedisConnection, type RedisCommandMeter } from '../stores/redis-connection.js';
import { RedisLoginThrottle } from '../stores/redis-login-throttle.js';
import { SqliteClientRegistry } from '../stores/sqlite-client-registry.js';
import type { Config } from '../config/config.js';
import type { Engine } from '../engine/engine.js';
import { MemoryEngine } from '../engine/memory-engine.js';
import { MemoryActiveSessions } from '../stores/memory-active-sessions.js';
import { MemoryHistory } from '../stores/memory-history.js';
import { MemoryMembership } from '../stores/memory-membership.js';
import { RedisActiveSessions } from '../stores/redis-active-sessions.js';
import { RedisHistory } from '../stores/redis-history.js';
import { RedisMembership } from '../stores/redis-membership.js';
import { RedisPresence } from '../stores/redis-presence.js';
import { RedisEngine } from '../engine/redis-engine.js';

/** What the nodes of one deployment share: the engine and the stores beside it, in memory or in Redis. */
export interface SharedState {
  readonly engine: Engine;
  /** The transaction events' client registry (SQLite under DATA_DIR on one node, Redis when clustered). */
  readonly clients: ClientRegistry;
  /** The auth service's failed-login counters. */
  loginThrottle(limits: ThrottleLimits): LoginThrottle;
  /** The Redis command client counters shared by the nodes use (the HTTP rate limit); `undefined` on one node. */
  readonly redis: RedisClient | undefined;
  close(): Promise<void>;
}

/**
 * Builds the stores and bundles the ones every node shares into the engine (unless `given`): in memory
 * (one node) without REDIS_URL or REDIS_SENTINELS, else on one Redis connection (its commands timed and counted by `redisMeter`).
 */
export function openSharedState(config: Config, nodeId: string, log: Logger, given: Engine | undefined, redisMeter: RedisCommandMeter | undefined): SharedState {
  if (config.redis === undefined) {
    const engine = given ?? new MemoryEngine({
      sessions: new MemoryActiveSessions(),
      membership: new MemoryMembership(),
      history: config.historySize > 0 ? new MemoryHistory(config.historySize, config.historyTtlMs) : undefined,
    });
    const clients = new LazyClientRegistry(() => new SqliteClientRegistry(config.dataDir));
    return {
      engine,
      clients,
      loginThrottle: (limits) => new MemoryLoginThrottle(limits),
      redis: undefined,
      async close() {
        await engine.close();
        await clients.close();
      },
    };
  }
  const { prefix } = config.redis;
  const connection = new RedisConnection(config.redis.target, nodeId, log, redisMeter);
  const heartbeatMs = config.presenceHeartbeatMs;
  const engine = given ?? new RedisEngine(connection, config.redis, { recoveryWindowMs: config.recoveryWindowMs, heartbeatMs }, {
    sessions: new RedisActiveSessions(connection, prefix),
    presence: new RedisPresence(connection, prefix, nodeId, heartbeatMs, log),
    membership: new RedisMembership(connection, prefix, nodeId, { heartbeatMs, recoveryWindowMs: config.recoveryWindowMs }, log),
    history: config.historySize > 0 ? new RedisHistory(connection, prefix, config.historySize, config.historyTtlMs) : undefined,
  }, log);
  return {
    engine,
    clients: new RedisClientRegistry(connection, prefix),
    loginThrottle: (limits) => new RedisLoginThrottle(connection, prefix, limits),
    redis: connection.client,
    async close() {
      // The adapter's in-flight commands are answered before the connections go.
      await engine.close();
      await connection.close();
    },
  };
}
