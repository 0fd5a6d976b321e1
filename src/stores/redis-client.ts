import { Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config/redis-target.js';

/**
 * How one connection behaves, whatever the topology: its retry strategy, name, timeouts and queueing
 * (see `RedisConnection`, which opens every connection of a node through {@link openRedisClient}).
 */
export type RedisClientTuning = Pick<
  RedisOptions,
  'retryStrategy' | 'connectionName' | 'enableOfflineQueue' | 'maxRetriesPerRequest' | 'commandTimeout'
>;

/**
 * Opens one ioredis connection to `target` with `tuning`: the only place a node constructs a Redis client,
 * so each topology is decided once. A server is reached by its URL. With Sentinel, ioredis asks the
 * Sentinels (in turn) for the master named `target.name` at every (re)connection and checks that what
 * answers is a master. A failover reaches a node as a lost connection — the master is gone, or the
 * Sentinels' reconfiguration of a demoted master closes its clients — and, should a connection to a
 * demoted master survive, as a `READONLY` reply, on which it reconnects and sends the command again; a
 * master whose host went silent, through the Sentinels' `+switch-master` (`failoverDetector`).
 */
export function openRedisClient(target: RedisTarget, tuning: RedisClientTuning): Redis {
  if (target.kind === 'server') return new Redis(target.url, tuning);
  return new Redis({
    ...tuning,
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
