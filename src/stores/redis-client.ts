import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config/redis-target.js';

/** A connection to Redis as the stores and adapters use it: one server's (or Sentinel's master's), or a cluster's. */
export type RedisClient = Redis | Cluster;

/**
 * How one connection behaves, whatever the topology: its retry strategy, name, timeouts and queueing
 * (see `RedisConnection`, which opens every connection of a node through {@link openRedisClient}).
 */
export type RedisClientTuning = Pick<
  RedisOptions,
  'retryStrategy' | 'connectionName' | 'enableOfflineQueue' | 'maxRetriesPerRequest' | 'commandTimeout'
> & {
  /** The connection may SSUBSCRIBE (a sharded pub/sub adapter): on a cluster, one subscriber connection per master. */
  readonly shardedSubscriber?: boolean;
};

/**
 * Opens one ioredis connection to `target` with `tuning`: the only place a node constructs a Redis client,
 * so each topology is decided once. A server is reached by its URL. With Sentinel, ioredis asks the
 * Sentinels (in turn) for the master named `target.name` at every (re)connection and checks that what
 * answers is a master. A failover reaches a node as a lost connection — the master is gone, or the
 * Sentinels' reconfiguration of a demoted master closes its clients — and, should a connection to a
 * demoted master survive, as a `READONLY` reply, on which it reconnects and sends the command again; a
 * master whose host went silent, through the Sentinels' `+switch-master` (`failoverDetector`).
 *
 * A Redis Cluster is an ioredis `Cluster`: it learns the slot map from the given nodes, sends each command
 * to the master of its key's slot (reads too: a replica may lag), follows MOVED/ASK, and refreshes the map
 * when a master is lost. Until a replica is promoted, that master's slots answer CLUSTERDOWN or not at
 * all: ioredis retries their commands, within the command's bound (`commandTimeout`) on the command
 * connection, until a master answers on the waiting ones. The whole cluster reconnects with
 * `retryStrategy` when it loses every node; the rest of the tuning applies to each node's connection.
 */
export function openRedisClient(target: RedisTarget, tuning: RedisClientTuning): RedisClient {
  const { shardedSubscriber = false, ...options } = tuning;
  if (target.kind === 'server') return new Redis(target.url, options);
  if (target.kind === 'cluster') {
    const { retryStrategy, enableOfflineQueue, ...nodeTuning } = options;
    return new Cluster(target.nodes.map(({ host, port }) => ({ host, port })), {
      redisOptions: { ...nodeTuning, password: target.password },
      scaleReads: 'master',
      shardedSubscribers: shardedSubscriber,
      // A connection whose commands wait for Redis (`maxRetriesPerRequest: null`) waits through a failover
      // too: each retry (a lost master, CLUSTERDOWN) counts as a redirection, ~100 ms apart.
      ...(nodeTuning.maxRetriesPerRequest === null ? { maxRedirections: Number.POSITIVE_INFINITY } : {}),
      ...(retryStrategy === undefined ? {} : { clusterRetryStrategy: retryStrategy }),
      ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    });
  }
  return new Redis({
    ...options,
    sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
    name: target.name,
    role: 'master',
    sentinelPassword: target.sentinelPassword,
    password: target.password,
    // A master that went silent (its host down, not its process) drops no connection: the Sentinels'
    // +switch-master does (ioredis subscribes to it on each Sentinel and reconnects to the new master).
    failoverDetector: true,
    // A demoted master answers READONLY: reconnect (to the new master) and send the command again — the
    // adapter's XADD too, whose failure nobody awaits (`true` would reconnect but fail the command).
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  });
}
