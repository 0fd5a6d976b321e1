import type { HeaderProfile } from './browser-headers.js';
import { SERVER_SPECS, type ServerName } from './servers.js';

/**
 * The bench's scenarios: (a) fan-out, (b) targeted publishes, (c) memory per connection, (d) two
 * Switchboard nodes over Redis (cross-node fan-out and targeted publishes, per Redis topology and adapter),
 * (e) Switchboard's auth service (login, refresh, handshake with and without TOKEN_STATE_CHECK), (f) bursts
 * of messages to one room sent as one `POST /v1/batch` against one `POST /v1/publish` each, (g) one
 * Switchboard with WORKERS=1 against WORKERS=2 on the same Redis (targeted and fan-out at saturation).
 */
export type Phase = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g';

export const ALL_PHASES: readonly Phase[] = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

/** (f) Bursts of `perBurst` messages to a room of `roomSize` clients, a second apart. */
export interface BatchSizes {
  readonly roomSize: number;
  readonly perBurst: number;
  readonly bursts: number;
}

/**
 * (g) WORKERS=1 against WORKERS=2 (phases/scaling.ts): targeted publishes with more requests in flight than
 * (b), so the gateway is the bottleneck, then fan-out to one room at rising delivery rates until it falls behind.
 */
export interface ScalingSizes {
  /** The WORKERS values measured, in that order, each on a fresh gateway. */
  readonly workerCounts: readonly number[];
  /** Targeted publishes in flight at once (the (b) publish counts and users are kept). */
  readonly targetedConcurrency: number;
  /** Clients in the fan-out room. */
  readonly roomSize: number;
  /** The fan-out ladder: deliveries per second offered, one measurement each, stopping at the first that is not kept up with. */
  readonly fanoutDeliveriesPerS: readonly number[];
  /** How long each ladder step publishes (its publish count is rate × this). */
  readonly fanoutSeconds: number;
}

/** The Socket.IO Redis adapters Switchboard can use (its REDIS_ADAPTER). */
export type RedisAdapterName = 'streams' | 'pubsub' | 'sharded';

/**
 * The Redis deployments (d) can run on: one redis-server; a master, a replica and three Sentinels; a Redis
 * Cluster of three masters (lib/redis-topology.ts).
 */
export type RedisTopologyName = 'single' | 'sentinel' | 'cluster';

/**
 * Per topology, the adapters BENCH_REDIS may ask for (Switchboard refuses `pubsub` on a cluster) and those
 * a bare topology name (and the default) measures.
 */
const TOPOLOGY_ADAPTERS: Record<RedisTopologyName, { allowed: readonly RedisAdapterName[]; measured: readonly RedisAdapterName[] }> = {
  single: { allowed: ['streams', 'pubsub', 'sharded'], measured: ['streams', 'pubsub', 'sharded'] },
  sentinel: { allowed: ['streams', 'pubsub', 'sharded'], measured: ['streams'] },
  cluster: { allowed: ['streams', 'sharded'], measured: ['streams', 'sharded'] },
};

/** (d) One Redis deployment and the adapters measured on it, in that order (each on its own pair of nodes). */
export interface RedisPlan {
  readonly topology: RedisTopologyName;
  readonly adapters: readonly RedisAdapterName[];
}

/** What BENCH_REDIS defaults to: every topology, each with its own adapters. */
const DEFAULT_REDIS = 'single,sentinel,cluster';

/**
 * One fan-out measurement: `publishes` messages at `ratePerS` to a room of `roomSize` clients. Rates keep
 * deliveries near 20,000/s, which leaves this 2-core machine headroom (the clients run on it too).
 */
export interface FanoutStep {
  readonly roomSize: number;
  readonly ratePerS: number;
  readonly publishes: number;
}

/** The scenario name of a fan-out step in the table, e.g. "(a) fan-out 2000 @10/s". */
export function fanoutScenario(step: FanoutStep): string {
  return `(a) fan-out ${step.roomSize} @${step.ratePerS}/s`;
}

/** The scenario name of a (b) row, e.g. "(b) targeted 500 users". */
export function targetedScenario(users: number): string {
  return `(b) targeted ${users} users`;
}

/** The scenario name of a (d) cross-node fan-out row, e.g. "(d) 2 nodes fan-out 2000, single streams". */
export function clusterFanoutScenario(step: FanoutStep, topology: RedisTopologyName, adapter: RedisAdapterName): string {
  return `(d) 2 nodes fan-out ${step.roomSize}, ${topology} ${adapter}`;
}

/** The scenario name of a (d) cross-node targeted row, e.g. "(d) 2 nodes targeted 500 users, cluster sharded". */
export function clusterTargetedScenario(users: number, topology: RedisTopologyName, adapter: RedisAdapterName): string {
  return `(d) 2 nodes targeted ${users} users, ${topology} ${adapter}`;
}

/** The scenario name of a (g) targeted row, e.g. "(g) targeted, WORKERS=2". */
export function scalingTargetedScenario(workers: number): string {
  return `(g) targeted, WORKERS=${workers}`;
}

/** The scenario name of a (g) fan-out row, e.g. "(g) fan-out 2000, WORKERS=2". */
export function scalingFanoutScenario(roomSize: number, workers: number): string {
  return `(g) fan-out ${roomSize}, WORKERS=${workers}`;
}

/** The scenario name of a memory row, e.g. "(c) memory 10000 conns, browser headers". */
export function memoryScenario(connections: number, headers: HeaderProfile): string {
  return `(c) memory ${connections} conns, ${headers} headers`;
}

/** (e) The three kinds of `POST /login { username, password }` compared: right password, wrong password, unknown user. */
export type LoginKind = 'right' | 'wrong' | 'unknown';

export const LOGIN_KINDS: readonly LoginKind[] = ['right', 'wrong', 'unknown'];

const LOGIN_KIND_NAMES: Record<LoginKind, string> = { right: 'right password', wrong: 'wrong password', unknown: 'unknown user' };

/** The scenario name of an (e) login row, e.g. "(e) login wrong password, 4 concurrent" (`concurrency` 1: "sequential"). */
export function loginScenario(kind: LoginKind, concurrency: number): string {
  return `(e) login ${LOGIN_KIND_NAMES[kind]}, ${inFlight(concurrency)}`;
}

/** The scenario name of an (e) refresh row, e.g. "(e) refresh, sequential". */
export function refreshScenario(concurrency: number): string {
  return `(e) refresh, ${inFlight(concurrency)}`;
}

/** The scenario name of an (e) handshake row, e.g. "(e) handshake, state check on" or "(e) handshake same session, state check off". */
export function handshakeScenario(tokenStateCheck: boolean, sameSession: boolean): string {
  return `(e) handshake${sameSession ? ' same session' : ''}, state check ${tokenStateCheck ? 'on' : 'off'}`;
}

function inFlight(concurrency: number): string {
  return concurrency <= 1 ? 'sequential' : `${concurrency} concurrent`;
}

/** (e) How many requests of each kind the auth-service phase sends (phases/auth.ts). */
export interface AuthSizes {
  /** Clients sending at once in the concurrent login and refresh measurements (the sequential ones: 1). */
  readonly concurrency: number;
  /** Uncounted logins of each kind before the login measurements. */
  readonly loginWarmup: number;
  /** Counted logins of each kind, one at a time (in short blocks of one kind, the kinds alternating). */
  readonly loginsSequential: number;
  /** Counted logins of each kind, `concurrency` at a time (the kinds mixed). */
  readonly loginsConcurrent: number;
  /** Uncounted refreshes before the refresh measurements. */
  readonly refreshWarmup: number;
  /** Counted refreshes, sequential (one session's chain), then as many with `concurrency` chains. */
  readonly refreshes: number;
  /** argon2id verifications timed in the bench process, for comparison with a login's cost. */
  readonly argon2Verifies: number;
  /** Uncounted handshakes (their own sessions) before the handshake measurements, per server. */
  readonly handshakeWarmup: number;
  /** Counted handshakes per row, one at a time (a session each; then all on one session), per server. */
  readonly handshakes: number;
}

/** The sizes and schedules of one bench run. The same schedule is used for every server. */
export interface BenchConfig {
  readonly quick: boolean;
  readonly servers: readonly ServerName[];
  /** The scenarios to run (BENCH_PHASES), on every server. */
  readonly phases: ReadonlySet<Phase>;
  /** Client worker processes (the load generator's receiving side). */
  readonly workers: number;
  /** Connections opened at once across all workers; the next batch starts when this one settled. */
  readonly connectBatch: number;
  readonly connectTimeoutMs: number;
  /** Each (a) and (b) measurement is run this many times; the table shows the median (lib/repeat.ts). */
  readonly repeats: number;
  /** (a) Rooms measured in turn on one server process (the room grows between them). */
  readonly fanout: readonly FanoutStep[];
  /** Publishes before each fan-out measurement, not counted (JIT warm-up). */
  readonly fanoutWarmup: number;
  /** (b) Clients, each its own user; publishes spread round-robin over them. */
  readonly targetedUsers: number;
  readonly targetedPublishes: number;
  readonly targetedWarmup: number;
  readonly targetedConcurrency: number;
  /**
   * (d) The fan-out step measured across two nodes (the first (a) step: same room size and schedule), so
   * it compares with that (a) row.
   */
  readonly clusterFanout: FanoutStep;
  /** (d) The Redis deployments measured, in that order, each with its adapters (BENCH_REDIS). */
  readonly redis: readonly RedisPlan[];
  /** (c) Connections held to measure memory (once per header profile, each on a fresh server). */
  readonly memoryConnections: number;
  /** Idle wait before each RSS reading, to let GC settle. */
  readonly settleMs: number;
  /** How long after the last publish answered to wait for missing deliveries before counting them lost. */
  readonly drainTimeoutMs: number;
  /** (e) The auth service's request counts. */
  readonly auth: AuthSizes;
  /** (f) The bursts sent as one batch, then one by one. */
  readonly batch: BatchSizes;
  /** (g) WORKERS=1 against WORKERS=2. */
  readonly scaling: ScalingSizes;
  /** Extra `node` flags for the servers (BENCH_NODE_FLAGS, e.g. "--cpu-prof --cpu-prof-dir=bench/results"). */
  readonly serverNodeFlags: readonly string[];
}

/**
 * Reads the environment knobs: BENCH_QUICK=1 (small smoke run), BENCH_SERVERS=plain,floor (a subset, in
 * that order), BENCH_PHASES=c (a subset of the scenarios a,b,c,d,e,f,g), BENCH_REDIS=single,cluster:sharded
 * ((d)'s Redis deployments and adapters), BENCH_NODE_FLAGS (flags for the server processes).
 */
export function loadBenchConfig(env: NodeJS.ProcessEnv): BenchConfig {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const fanout: [FanoutStep, ...FanoutStep[]] = quick
    ? [{ roomSize: 200, ratePerS: 10, publishes: 20 }, { roomSize: 500, ratePerS: 10, publishes: 20 }]
    : [{ roomSize: 2000, ratePerS: 10, publishes: 60 }, { roomSize: 5000, ratePerS: 4, publishes: 24 }];
  return {
    quick,
    servers: parseServers(env.BENCH_SERVERS),
    phases: parsePhases(env.BENCH_PHASES),
    workers: 2,
    repeats: quick ? 1 : 3,
    connectBatch: 200,
    connectTimeoutMs: 15_000,
    fanout,
    fanoutWarmup: 10,
    targetedUsers: quick ? 100 : 500,
    targetedPublishes: quick ? 1000 : 5000,
    targetedWarmup: quick ? 500 : 3000,
    targetedConcurrency: 16,
    clusterFanout: fanout[0],
    redis: parseRedis(env.BENCH_REDIS),
    memoryConnections: quick ? 1000 : 10_000,
    settleMs: 2000,
    drainTimeoutMs: 3000,
    batch: { roomSize: quick ? 200 : 2000, perBurst: 100, bursts: quick ? 2 : 5 },
    scaling: {
      workerCounts: [1, 2],
      targetedConcurrency: 64,
      roomSize: quick ? 200 : 2000,
      fanoutDeliveriesPerS: [20_000, 40_000, 80_000, 160_000, 320_000],
      fanoutSeconds: quick ? 2 : 4,
    },
    auth: {
      concurrency: 4,
      loginWarmup: quick ? 2 : 10,
      loginsSequential: quick ? 12 : 150,
      loginsConcurrent: quick ? 24 : 300,
      refreshWarmup: quick ? 50 : 500,
      refreshes: quick ? 200 : 2000,
      argon2Verifies: quick ? 5 : 40,
      handshakeWarmup: quick ? 10 : 50,
      handshakes: quick ? 30 : 500,
    },
    serverNodeFlags: (env.BENCH_NODE_FLAGS ?? '').split(' ').filter((flag) => flag.length > 0),
  };
}

function parseServers(value: string | undefined): ServerName[] {
  const all = SERVER_SPECS.map((spec) => spec.name);
  if (value === undefined || value.trim() === '') return all;
  const names = value.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!all.includes(name as ServerName)) throw new Error(`BENCH_SERVERS: unknown server "${name}" (known: ${all.join(', ')})`);
  }
  return names as ServerName[];
}

function parsePhases(value: string | undefined): Set<Phase> {
  if (value === undefined || value.trim() === '') return new Set(ALL_PHASES);
  const names = value.split(',').map((name) => name.trim().toLowerCase()).filter((name) => name.length > 0);
  for (const name of names) {
    if (!ALL_PHASES.includes(name as Phase)) throw new Error(`BENCH_PHASES: unknown phase "${name}" (known: ${ALL_PHASES.join(', ')})`);
  }
  if (names.length === 0) throw new Error(`BENCH_PHASES: no phase given (known: ${ALL_PHASES.join(', ')})`);
  return new Set(names as Phase[]);
}

/**
 * BENCH_REDIS: a comma list of topologies (`single`, `sentinel`, `cluster`: each with the adapters it
 * measures by default) or `topology:adapter` items (that adapter only); items naming the same topology
 * merge, in the order given. E.g. `single:streams,cluster` or `cluster:sharded`.
 */
function parseRedis(value: string | undefined): RedisPlan[] {
  const topologies = Object.keys(TOPOLOGY_ADAPTERS) as RedisTopologyName[];
  const items = (value === undefined || value.trim() === '' ? DEFAULT_REDIS : value).split(',').map((item) => item.trim().toLowerCase()).filter((item) => item.length > 0);
  if (items.length === 0) throw new Error(`BENCH_REDIS: no topology given (known: ${topologies.join(', ')})`);
  const plans = new Map<RedisTopologyName, RedisAdapterName[]>();
  for (const item of items) {
    const [topology = '', adapter] = item.split(':');
    if (!topologies.includes(topology as RedisTopologyName)) throw new Error(`BENCH_REDIS: unknown topology "${topology}" (known: ${topologies.join(', ')})`);
    const { allowed, measured } = TOPOLOGY_ADAPTERS[topology as RedisTopologyName];
    if (adapter !== undefined && !allowed.includes(adapter as RedisAdapterName)) {
      throw new Error(`BENCH_REDIS: adapter "${adapter}" not possible on ${topology} (possible: ${allowed.join(', ')})`);
    }
    const adapters = plans.get(topology as RedisTopologyName) ?? [];
    for (const name of adapter === undefined ? measured : [adapter as RedisAdapterName]) if (!adapters.includes(name)) adapters.push(name);
    plans.set(topology as RedisTopologyName, adapters);
  }
  return [...plans].map(([topology, adapters]) => ({ topology, adapters }));
}
