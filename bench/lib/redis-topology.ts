import type { ChildProcess } from 'node:child_process';
import { startRedisCluster, startSentinelGroup, type RedisGroupLaunch } from '../../test/support/redis.js';
import { track } from './children.js';
import type { RedisTopologyName } from './config.js';
import { benchRedis, startRedis, type BenchRedis } from './redis.js';

/** One redis-server process of a topology and what it does there, e.g. "master 2", "replica", "sentinels". */
export interface RedisProcess {
  readonly role: string;
  readonly redis: BenchRedis;
}

/**
 * A Redis deployment the bench started for itself (phase d), every process on its own free 127.0.0.1
 * port with persistence off, tracked by lib/children.ts.
 */
export interface RedisTopology {
  readonly name: RedisTopologyName;
  /** How Switchboard reaches it: REDIS_URL, REDIS_SENTINELS + REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES. */
  readonly env: Readonly<Record<string, string>>;
  /** The servers that take Switchboard's commands (for FLUSHALL and commandstats): the one, the Sentinels' master, each cluster master. */
  readonly masters: readonly BenchRedis[];
  /** Every redis-server process, masters, replicas and Sentinels: their CPU is the row's Redis CPU. */
  readonly processes: readonly RedisProcess[];
  /** The last lines each process wrote, for error reports. */
  logTail(): string;
  /** Stops every process (SIGTERM, SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/**
 * Starts a topology: `single`, one redis-server; `sentinel`, a master, one replica and three Sentinels
 * (quorum 2) monitoring it; `cluster`, three masters and no replicas, all slots assigned (the replicas'
 * cost, replaying their master's writes, is what the Sentinel replica shows; on a 2-core machine three more
 * processes would only add noise). The group launchers are the test suite's (test/support/redis.ts). A
 * start that fails kills what it had started.
 */
export async function startRedisTopology(name: RedisTopologyName): Promise<RedisTopology> {
  const spawned: ChildProcess[] = [];
  const launch: RedisGroupLaunch = { cleanup: 'manual', onSpawn: (child) => spawned.push(track(child)) };
  try {
    if (name === 'single') {
      const redis = await startRedis();
      return topology(name, { REDIS_URL: redis.url }, [redis], [{ role: 'redis', redis }]);
    }
    if (name === 'sentinel') {
      const group = await startSentinelGroup(launch);
      const master = benchRedis(group.master);
      return topology(name, { REDIS_SENTINELS: group.sentinelList, REDIS_SENTINEL_NAME: group.name }, [master], [
        { role: 'master', redis: master },
        { role: 'replica', redis: benchRedis(group.replica) },
        ...group.sentinels.map((sentinel) => ({ role: 'sentinels', redis: benchRedis(sentinel) })),
      ]);
    }
    const cluster = await startRedisCluster(launch);
    const masters = cluster.nodes.map(benchRedis);
    return topology(name, { REDIS_CLUSTER_NODES: cluster.nodeList }, masters, masters.map((redis, i) => ({ role: `master ${i + 1}`, redis })));
  } catch (error) {
    for (const child of spawned) child.kill('SIGKILL');
    throw error;
  }
}

function topology(
  name: RedisTopologyName, env: Record<string, string>, masters: readonly BenchRedis[], processes: readonly RedisProcess[],
): RedisTopology {
  return {
    name,
    env,
    masters,
    processes,
    logTail: () => processes.map(({ role, redis }) => `--- redis ${role} (port ${redis.port}) log ---\n${redis.logTail()}`).join('\n'),
    stop: async () => {
      await Promise.all(processes.map(({ redis }) => redis.stop()));
    },
  };
}
