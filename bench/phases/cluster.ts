import type { ClientPool } from '../lib/client-pool.js';
import { nowMs, sleep } from '../lib/clock.js';
import {
  clusterFanoutScenario, clusterTargetedScenario, type BenchConfig, type RedisAdapterName, type RedisPlan,
} from '../lib/config.js';
import { HttpPublisher } from '../lib/http-publisher.js';
import type { ClientIdentity } from '../lib/ipc.js';
import { redisCommandStats } from '../lib/redis-command-stats.js';
import { startRedisTopology, type RedisTopology } from '../lib/redis-topology.js';
import type { Row } from '../lib/report.js';
import { startServer, switchboardOnRedis, type RunningServer } from '../lib/servers.js';
import type { SystemUnderTest } from '../lib/system.js';
import { FANOUT_USER, measureFanout } from './fanout.js';
import { measureTargeted, targetedUser } from './targeted.js';

/** How long to wait for the first cross-node delivery after both nodes are ready (the adapter subscribing). */
const WIRING_TIMEOUT_MS = 10_000;

/** What phase (d) needs from the runner: connecting, repeating a measurement, fresh seq ranges, logging. */
export interface ClusterRunner {
  readonly pool: ClientPool;
  readonly config: BenchConfig;
  readonly nextSeqBase: () => number;
  readonly connect: (server: RunningServer, identities: readonly ClientIdentity[]) => Promise<void>;
  readonly repeat: (measure: () => Promise<Row>) => Promise<Row>;
  readonly log: (message: string) => void;
}

/**
 * (d) Two nodes over Redis, for each Redis topology in `config.redis` and each of its adapters: starts the
 * bench's own redis-servers (free ports, no persistence; never the machine's Redis: lib/redis-topology.ts),
 * measures each adapter on a fresh pair of nodes, and stops the topology before the next one, on error too
 * (Ctrl-C and crashes: lib/children.ts). A topology or adapter that fails becomes rows with the reason, and
 * the next one is still measured.
 */
export async function measureClusters(runner: ClusterRunner): Promise<Row[]> {
  const rows: Row[] = [];
  for (const plan of runner.config.redis) await measureTopology(runner, plan, rows);
  return rows;
}

/** (d) One topology: started once, emptied before each adapter, stopped at the end. Appends its rows. */
async function measureTopology(runner: ClusterRunner, { topology: name, adapters }: RedisPlan, rows: Row[]): Promise<void> {
  const { config, log } = runner;
  // What was measured before a failure stays; the rest becomes rows with the reason.
  const failed = (failing: readonly RedisAdapterName[], error: unknown) => {
    const note = `FAILED: ${messageOf(error).replaceAll('\n', ' / ').slice(0, 300)}`;
    for (const adapter of failing) {
      const scenarios = [clusterFanoutScenario(config.clusterFanout, name, adapter), clusterTargetedScenario(config.targetedUsers, name, adapter)];
      for (const scenario of scenarios) {
        if (!rows.some((row) => row.scenario === scenario)) rows.push({ scenario, server: 'switchboard×2', note });
      }
    }
  };
  let topology: RedisTopology;
  try {
    topology = await startRedisTopology(name);
  } catch (error) {
    log(`(d) ${name} skipped: ${messageOf(error)}`);
    failed(adapters, error);
    return;
  }
  log(`redis ${name}: ${topology.processes.map(({ role, redis }) => `${role} ${redis.pid} on port ${redis.port}`).join(', ')}`);
  try {
    for (const adapter of adapters) {
      try {
        await measureCluster(runner, topology, adapter, rows);
      } catch (error) {
        failed([adapter], error);
      }
    }
  } finally {
    await topology.stop();
  }
}

/**
 * (d) One adapter: two fresh Switchboard nodes, A and B, on the topology (`REDIS_ADAPTER=adapter`).
 * Every client connects to node A and every publish goes to node B's HTTP API, so each message crosses
 * Redis before it is delivered. Measures the first (a) fan-out step, then the (b) targeted scenario, with
 * the same schedules as (a) and (b); CPU is both nodes' summed, all Redis processes' apart. Appends a row
 * per scenario.
 */
async function measureCluster(runner: ClusterRunner, topology: RedisTopology, adapter: RedisAdapterName, rows: Row[]): Promise<void> {
  const { pool, config, log } = runner;
  const label = `switchboard×2 ${topology.name} ${adapter}`;
  // A fresh Redis state per adapter (the prefix keeps the runs apart in any case).
  await Promise.all(topology.masters.map((redis) => redis.command('FLUSHALL')));
  const spec = switchboardOnRedis(topology.env, adapter, `bench-${topology.name}-${adapter}:`);
  const nodes: RunningServer[] = [];
  try {
    // startServer waits for /readyz 200, which with Redis means the node's Redis client is connected.
    for (let i = 0; i < 2; i += 1) nodes.push(await startServer(spec, { nodeFlags: config.serverNodeFlags }));
    const [nodeA, nodeB] = nodes as [RunningServer, RunningServer];
    const system: SystemUnderTest = {
      label: 'switchboard×2',
      publishTo: nodeB,
      serverPids: [nodeA.pid, nodeB.pid],
      backingPids: topology.processes.map(({ redis }) => redis.pid),
      processNames: ['A', 'B'],
      backingNames: topology.processes.map(({ role }) => role),
      probe: redisCommandStats(topology.masters),
    };
    const step = config.clusterFanout;
    const fanoutScenario = clusterFanoutScenario(step, topology.name, adapter);
    await runner.connect(nodeA, Array.from({ length: step.roomSize }, (_, i): ClientIdentity => ({ userId: FANOUT_USER, sessionId: `fanout-${i}` })));
    await awaitCrossNodeDelivery(nodeB, pool, FANOUT_USER, runner.nextSeqBase());
    log(`${label}: ${fanoutScenario}`);
    rows.push(await runner.repeat(() => measureFanout(system, fanoutScenario, pool, config, step, runner.nextSeqBase())));
    await pool.closeAll();

    const targetedScenario = clusterTargetedScenario(config.targetedUsers, topology.name, adapter);
    await runner.connect(nodeA, Array.from({ length: config.targetedUsers }, (_, i): ClientIdentity => ({ userId: targetedUser(i), sessionId: `targeted-${i}` })));
    await awaitCrossNodeDelivery(nodeB, pool, targetedUser(0), runner.nextSeqBase());
    log(`${label}: ${targetedScenario}`);
    rows.push(await runner.repeat(() => measureTargeted(system, targetedScenario, pool, config, runner.nextSeqBase())));
  } catch (error) {
    const tails = nodes.map((node, i) => `--- node ${'AB'[i]} log ---\n${node.logTail()}`);
    log(`${label} failed: ${messageOf(error)}\n${[...tails, topology.logTail()].join('\n')}`);
    throw error;
  } finally {
    await pool.closeAll().catch(() => undefined);
    for (const node of nodes) await node.stop();
  }
}

/**
 * Publishes to `userId` through `publishTo` every 100 ms until one delivery arrives: a node answers /readyz
 * once its own Redis client is connected, which may be before its adapter has subscribed (the streams
 * adapter starts reading at "$", so anything added before is never read). Throws after 10 s.
 */
async function awaitCrossNodeDelivery(publishTo: RunningServer, pool: ClientPool, userId: string, seqBase: number): Promise<void> {
  const publisher = new HttpPublisher(publishTo, 1);
  try {
    await pool.reset(seqBase);
    const deadline = performance.now() + WIRING_TIMEOUT_MS;
    for (let k = 0; performance.now() < deadline; k += 1) {
      await publisher.publish(userId, { seq: seqBase + k, t: nowMs() });
      if ((await pool.waitForDeliveries(1, 100)).received > 0) {
        await sleep(200); // let the other probes' deliveries land before the next reset
        return;
      }
    }
    throw new Error(`no cross-node delivery within ${WIRING_TIMEOUT_MS} ms (${publisher.failures[0] ?? 'publishes answered'})`);
  } finally {
    publisher.close();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
