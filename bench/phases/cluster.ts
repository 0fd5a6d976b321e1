import type { ClientPool } from '../lib/client-pool.js';
import { nowMs, sleep } from '../lib/clock.js';
import {
  clusterFanoutScenario, clusterTargetedScenario, type BenchConfig, type RedisAdapterName,
} from '../lib/config.js';
import { HttpPublisher } from '../lib/http-publisher.js';
import type { ClientIdentity } from '../lib/ipc.js';
import { startRedis, type BenchRedis } from '../lib/redis.js';
import type { Row } from '../lib/report.js';
import { startServer, switchboardOnRedis, type RunningServer } from '../lib/servers.js';
import type { SystemUnderTest, WindowProbe } from '../lib/system.js';
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
 * (d) Two nodes over Redis, for each adapter in `config.redisAdapters`: starts the bench's own
 * redis-server (a free port, no persistence; never the machine's Redis), measures each adapter on a fresh
 * pair of nodes, and stops Redis at the end, on error too (Ctrl-C and crashes: lib/children.ts). An
 * adapter that fails becomes rows with the reason, and the next one is still measured.
 */
export async function measureClusters(runner: ClusterRunner): Promise<Row[]> {
  const { config, log } = runner;
  const rows: Row[] = [];
  // What was measured before a failure stays; the rest becomes rows with the reason.
  const failed = (adapters: readonly RedisAdapterName[], error: unknown) => {
    const note = `FAILED: ${messageOf(error).replaceAll('\n', ' / ').slice(0, 300)}`;
    for (const adapter of adapters) {
      for (const scenario of [clusterFanoutScenario(config.clusterFanout, adapter), clusterTargetedScenario(config.targetedUsers, adapter)]) {
        if (!rows.some((row) => row.scenario === scenario)) rows.push({ scenario, server: 'switchboard×2', note });
      }
    }
  };
  let redis: BenchRedis;
  try {
    redis = await startRedis();
  } catch (error) {
    log(`(d) skipped: ${messageOf(error)}`);
    failed(config.redisAdapters, error);
    return rows;
  }
  log(`redis-server ${redis.pid} on port ${redis.port}`);
  try {
    for (const adapter of config.redisAdapters) {
      try {
        await measureCluster(runner, redis, adapter, rows);
      } catch (error) {
        failed([adapter], error);
      }
    }
  } finally {
    await redis.stop();
  }
  return rows;
}

/**
 * (d) One adapter: two fresh Switchboard nodes, A and B, on the bench's Redis (`REDIS_ADAPTER=adapter`).
 * Every client connects to node A and every publish goes to node B's HTTP API, so each message crosses
 * Redis before it is delivered. Measures the first (a) fan-out step, then the (b) targeted scenario, with
 * the same schedules as (a) and (b); CPU is both nodes' summed, Redis's apart. Appends a row per scenario.
 */
async function measureCluster(runner: ClusterRunner, redis: BenchRedis, adapter: RedisAdapterName, rows: Row[]): Promise<void> {
  const { pool, config, log } = runner;
  // A fresh Redis state per adapter (the prefix keeps the two apart in any case).
  await redis.command('FLUSHALL');
  const spec = switchboardOnRedis(redis.url, adapter, `bench-${adapter}:`);
  const nodes: RunningServer[] = [];
  try {
    // startServer waits for /readyz 200, which with Redis means the node's Redis client is connected.
    for (let i = 0; i < 2; i += 1) nodes.push(await startServer(spec, { nodeFlags: config.serverNodeFlags }));
    const [nodeA, nodeB] = nodes as [RunningServer, RunningServer];
    const system: SystemUnderTest = {
      label: 'switchboard×2',
      publishTo: nodeB,
      serverPids: [nodeA.pid, nodeB.pid],
      backingPids: [redis.pid],
      processNames: ['A', 'B'],
      probe: redisCommandStats(redis),
    };
    const step = config.clusterFanout;
    const fanoutScenario = clusterFanoutScenario(step, adapter);
    await runner.connect(nodeA, Array.from({ length: step.roomSize }, (_, i): ClientIdentity => ({ userId: FANOUT_USER, sessionId: `fanout-${i}` })));
    await awaitCrossNodeDelivery(nodeB, pool, FANOUT_USER, runner.nextSeqBase());
    log(`switchboard×2 ${adapter}: ${fanoutScenario}`);
    rows.push(await runner.repeat(() => measureFanout(system, fanoutScenario, pool, config, step, runner.nextSeqBase())));
    await pool.closeAll();

    const targetedScenario = clusterTargetedScenario(config.targetedUsers, adapter);
    await runner.connect(nodeA, Array.from({ length: config.targetedUsers }, (_, i): ClientIdentity => ({ userId: targetedUser(i), sessionId: `targeted-${i}` })));
    await awaitCrossNodeDelivery(nodeB, pool, targetedUser(0), runner.nextSeqBase());
    log(`switchboard×2 ${adapter}: ${targetedScenario}`);
    rows.push(await runner.repeat(() => measureTargeted(system, targetedScenario, pool, config, runner.nextSeqBase())));
  } catch (error) {
    const tails = nodes.map((node, i) => `--- node ${'AB'[i]} log ---\n${node.logTail()}`);
    log(`switchboard×2 ${adapter} failed: ${messageOf(error)}\n${[...tails, `--- redis log ---\n${redis.logTail()}`].join('\n')}`);
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

/** Commands that are the bench's own (the probe's), not Switchboard's. */
const PROBE_COMMANDS = new Set(['config', 'info', 'flushall', 'ping']);
/** How many commands the note lists. */
const TOP_COMMANDS = 4;

/**
 * The Redis commands Switchboard ran in a measurement window, per publish: `CONFIG RESETSTAT` before, then
 * `INFO commandstats` after. Shows the few that took most of Redis's command time (calls and µs per publish).
 */
function redisCommandStats(redis: BenchRedis): WindowProbe {
  return {
    async start() {
      await redis.command('CONFIG RESETSTAT');
    },
    async finish(publishes) {
      if (publishes <= 0) return undefined;
      const stats = [...(await redis.command('INFO commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)]
        .map((match) => ({ name: match[1] ?? '?', calls: Number(match[2]), usec: Number(match[3]) }))
        .filter((stat) => !PROBE_COMMANDS.has(stat.name.split('|')[0] ?? ''))
        .sort((a, b) => b.usec - a.usec)
        .slice(0, TOP_COMMANDS);
      if (stats.length === 0) return undefined;
      const per = (value: number) => (value / publishes).toFixed(value / publishes >= 10 ? 0 : 1);
      return `Redis per publish: ${stats.map((stat) => `${stat.name} ${per(stat.calls)}× ${per(stat.usec)} µs`).join(', ')}`;
    },
  };
}
