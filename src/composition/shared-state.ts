import type { Logger } from 'pino';
import type { ClientRegistry } from '../stores/client-registry.js';
import { LazyClientRegistry } from '../stores/lazy-client-registry.js';
import type { LoginThrottle, ThrottleLimits } from '../stores/login-throttle.js';
import { MemoryLoginThrottle } from '../stores/memory-login-throttle.js';
import { RedisClientRegistry } from '../stores/redis-client-registry.js';
import { RedisConnection } from '../stores/redis-connection.js';
import { RedisLoginThrottle } from '../stores/redis-login-throttle.js';
import { SqliteClientRegistry } from '../stores/sqlite-client-registry.js';
import type { Config } from '../config/config.js';
import type { Engine } from '../engine/engine.js';
import { MemoryEngine } from '../engine/memory-engine.js';
import { RedisEngine } from '../engine/redis-engine.js';

/** What the nodes of one deployment share: the engine and the stores beside it, in memory or in Redis. */
export interface SharedState {
  readonly engine: Engine;
  /** The transaction events' client registry (SQLite under DATA_DIR on one node, Redis when clustered). */
  readonly clients: ClientRegistry;
  /** The auth service's failed-login counters. */
  loginThrottle(limits: ThrottleLimits): LoginThrottle;
  close(): Promise<void>;
}

/**
 * Builds the engine (unless `given`) and the stores beside it: in memory (one node) without REDIS_URL,
 * else on one Redis connection.
 */
export function openSharedState(config: Config, nodeId: string, log: Logger, given: Engine | undefined): SharedState {
  if (config.redis === undefined) {
    const engine = given ?? new MemoryEngine(config.historySize, config.historyTtlMs);
    const clients = new LazyClientRegistry(() => new SqliteClientRegistry(config.dataDir));
    return {
      engine,
      clients,
      loginThrottle: (limits) => new MemoryLoginThrottle(limits),
      async close() {
        await engine.close();
        await clients.close();
      },
    };
  }
  const { prefix } = config.redis;
  const connection = new RedisConnection(config.redis.url, nodeId, log);
  const engine = given ?? new RedisEngine(connection, config.redis, {
    nodeId,
    heartbeatMs: config.presenceHeartbeatMs,
    historySize: config.historySize,
    historyTtlMs: config.historyTtlMs,
    recoveryWindowMs: config.recoveryWindowMs,
  }, log);
  return {
    engine,
    clients: new RedisClientRegistry(connection, prefix),
    loginThrottle: (limits) => new RedisLoginThrottle(connection, prefix, limits),
    async close() {
      // The adapter's in-flight commands are answered before the connections go.
      await engine.close();
      await connection.close();
    },
  };
}
