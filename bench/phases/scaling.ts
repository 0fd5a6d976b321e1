import { cpus } from 'node:os';
import { sleep } from '../lib/clock.js';
import { cpuList, pin, tasksetAvailable } from '../lib/cpu-affinity.js';
import { scalingFanoutScenario, scalingTargetedScenario, type BenchConfig } from '../lib/config.js';
import type { ClientIdentity } from '../lib/ipc.js';
import { childPids, cpuMicros, hostCpuMicros } from '../lib/proc-stats.js';
import { measureOnQuietHost } from '../lib/quiet-host.js';
import { startRedis, type BenchRedis } from '../lib/redis.js';
import { joinDetails, type Row } from '../lib/report.js';
import { startServer, switchboardOnRedis, type RunningServer, type ServerSpec } from '../lib/servers.js';
import type { SystemUnderTest, WindowProbe } from '../lib/system.js';
import type { ClusterRunner } from './cluster.js';
import { FANOUT_USER, measureFanout } from './fanout.js';
import { measureTargeted, targetedUser } from './targeted.js';

/** How long a gateway may take from its first `/readyz` 200 to "gateway listening" (every worker ready). */
const ALL_READY_TIMEOUT_MS = 20_000;
/** A fan-out ladder step is kept up with when it delivers at least this share of the offered rate, losing nothing. */
const KEPT_UP = 0.9;
/** Other processes' share of the machine above which a ladder step's shortfall does not end the ladder. */
const DISTURBED = 0.1;

/** Where the gateway and the load generator (client workers, publisher, Redis) run: `taskset -c` lists. */
interface Placement {
  readonly gateway: string;
  readonly load: string;
}

/**
 * (g) Switchboard with WORKERS=1, then WORKERS=2 (`config.scaling.workerCounts`), each a fresh gateway on
 * the bench's own redis-server (REDIS_URL for both, so both pay for Redis alike): targeted publishes at
 * saturation, then fan-out to one room up a ladder of delivery rates. CPU per message is the primary's and
 * every worker's summed; the note gives the cores each side used. With taskset and at least 2 CPUs, the
 * load generator and Redis run on CPU 0 and the gateway on the others (see {@link placement}).
 */
export async function measureScaling(runner: ClusterRunner): Promise<Row[]> {
  const { config, log } = runner;
  const counts = config.scaling.workerCounts;
  const failedRows = (error: unknown, failed: readonly number[]) => failed.flatMap((workers): Row[] => [
    { scenario: scalingTargetedScenario(workers), server: 'switchboard', note: `FAILED: ${messageOf(error)}` },
    { scenario: scalingFanoutScenario(config.scaling.roomSize, workers), server: 'switchboard', note: `FAILED: ${messageOf(error)}` },
  ]);
  let redis: BenchRedis;
  try {
    redis = await startRedis();
  } catch (error) {
    log(`(g) skipped: ${messageOf(error)}`);
    return failedRows(error, counts);
  }
  const loadPids = () => [process.pid, ...runner.pool.pids(), redis.pid];
  const unpinned = tasksetAvailable() ? cpuList(process.pid) : undefined;
  const rows: Row[] = [];
  try {
    for (const workers of counts) {
      const where = unpinned === undefined ? undefined : placement(workers, cpus().length);
      if (where !== undefined) pin(loadPids(), where.load);
      rows.push(...await measureWorkers(runner, redis, workers, where).catch((error: unknown) => failedRows(error, [workers])));
    }
  } finally {
    try {
      if (unpinned !== undefined) pin(loadPids(), unpinned);
    } catch (error) {
      log(`(g) could not give the bench its CPUs back: ${messageOf(error)}`);
    }
    await redis.stop();
  }
  return rows;
}

/**
 * The CPUs for `workers` gateway processes on a machine of `cpuCount`: the load generator on CPU 0, the
 * gateway on CPUs 1…workers when there are that many; otherwise (WORKERS=2 on 2 cores) on every CPU,
 * sharing CPU 0 with the load generator. Undefined on one CPU.
 */
function placement(workers: number, cpuCount: number): Placement | undefined {
  if (cpuCount < 2) return undefined;
  return { load: '0', gateway: cpuCount > workers ? (workers === 1 ? '1' : `1-${workers}`) : `0-${cpuCount - 1}` };
}

/** One WORKERS value on a fresh gateway and an emptied Redis: the targeted row, then the fan-out row. */
async function measureWorkers(runner: ClusterRunner, redis: BenchRedis, workers: number, where: Placement | undefined): Promise<Row[]> {
  const { pool, config, log } = runner;
  await redis.command('FLUSHALL');
  const spec = workersSpec(redis, workers);
  const server = await startServer(spec, { nodeFlags: config.serverNodeFlags, cpus: where?.gateway });
  try {
    const pids = await gatewayPids(server, workers);
    const placed = where === undefined ? 'not pinned' : `gateway on CPU ${where.gateway}, bench and Redis on CPU ${where.load}`;
    log(`switchboard WORKERS=${workers}: pids ${pids.join(', ')}, ${placed}`);
    const system: SystemUnderTest = {
      label: 'switchboard',
      publishTo: server,
      serverPids: pids,
      backingPids: [redis.pid],
      processNames: workers > 1 ? ['primary', ...pids.slice(1).map((_, i) => `worker ${i + 1}`)] : [],
      backingNames: ['redis'],
      probe: coreSplit(pids, redis.pid, () => [process.pid, ...pool.pids()], workers > 1),
    };
    const withPlacement = (row: Row): Row => ({ ...row, note: joinDetails(placed, row.note) });

    await runner.connect(server, Array.from({ length: config.targetedUsers }, (_, i): ClientIdentity => ({ userId: targetedUser(i), sessionId: `targeted-${i}` })));
    const targeted = scalingTargetedScenario(workers);
    log(`switchboard WORKERS=${workers}: ${targeted}, ${config.scaling.targetedConcurrency} in flight`);
    const saturated = { ...config, targetedConcurrency: config.scaling.targetedConcurrency };
    const targetedRow = await runner.repeat(() => measureTargeted(system, targeted, pool, saturated, runner.nextSeqBase()));
    await pool.closeAll();

    await runner.connect(server, Array.from({ length: config.scaling.roomSize }, (_, i): ClientIdentity => ({ userId: FANOUT_USER, sessionId: `fanout-${i}` })));
    const fanoutRow = await fanoutLadder(runner, system, workers);
    return [withPlacement(targetedRow), withPlacement(fanoutRow)];
  } catch (error) {
    log(`switchboard WORKERS=${workers} failed: ${messageOf(error)}\n--- gateway log ---\n${server.logTail()}\n--- redis log ---\n${redis.logTail()}`);
    throw error;
  } finally {
    await pool.closeAll().catch(() => undefined);
    await server.stop();
  }
}

/** Switchboard on the bench's Redis (streams adapter) with WORKERS, logging at info for "gateway listening" (no line per request). */
function workersSpec(redis: BenchRedis, workers: number): ServerSpec {
  const onRedis = switchboardOnRedis({ REDIS_URL: redis.url }, 'streams', `bench-scaling-${workers}:`);
  return { ...onRedis, env: { ...onRedis.env, WORKERS: String(workers), LOG_LEVEL: 'info' } };
}

/**
 * The gateway's processes, primary first, once every worker is ready: `/readyz` answers 200 as soon as one
 * worker is, and clients connected before the others are ready would all land on that one. The primary logs
 * "gateway listening" once all are (a single process logs it too).
 */
async function gatewayPids(server: RunningServer, workers: number): Promise<number[]> {
  const deadline = performance.now() + ALL_READY_TIMEOUT_MS;
  while (!server.logTail().includes('gateway listening')) {
    if (performance.now() > deadline) throw new Error(`no "gateway listening" within ${ALL_READY_TIMEOUT_MS} ms of /readyz`);
    await sleep(100);
  }
  const children = childPids(server.pid);
  const expected = workers > 1 ? workers : 0;
  if (children.length !== expected) throw new Error(`WORKERS=${workers}: ${children.length} child processes, expected ${expected}`);
  return [server.pid, ...children];
}

/**
 * The fan-out room up `config.scaling.fanoutDeliveriesPerS`, one measurement per rate, until a rate is not
 * kept up with (lost deliveries, or under {@link KEPT_UP} of it delivered on an otherwise quiet machine). The row is the step that delivered
 * most per second; its note lists every step, offered → delivered.
 */
async function fanoutLadder(runner: ClusterRunner, system: SystemUnderTest, workers: number): Promise<Row> {
  const { pool, config, log } = runner;
  const { roomSize, fanoutDeliveriesPerS, fanoutSeconds } = config.scaling;
  const scenario = scalingFanoutScenario(roomSize, workers);
  const steps: { offered: number; row: Row }[] = [];
  for (const offered of fanoutDeliveriesPerS) {
    const ratePerS = offered / roomSize;
    log(`switchboard WORKERS=${workers}: ${scenario}, ${ratePerS}/s (${offered} deliveries/s)`);
    const step = { roomSize, ratePerS, publishes: Math.round(ratePerS * fanoutSeconds) };
    const row = await measureOnQuietHost(() => measureFanout(system, scenario, pool, config, step, runner.nextSeqBase()), log);
    steps.push({ offered, row });
    // A shortfall while other processes took the machine (after measureOnQuietHost's retries) says nothing
    // about the gateway: the ladder goes on. A loss always ends it (the room is backed up).
    if ((row.lost ?? 0) > 0 || ((row.msgsPerS ?? 0) < KEPT_UP * offered && (row.otherBusy ?? 0) <= DISTURBED)) break;
  }
  const best = steps.reduce((a, b) => ((b.row.msgsPerS ?? 0) > (a.row.msgsPerS ?? 0) ? b : a));
  const ladder = steps.map(({ offered, row }) => `${offered} → ${(row.msgsPerS ?? 0).toFixed(0)}${(row.lost ?? 0) > 0 ? ` (${row.lost} lost)` : ''}`);
  return { ...best.row, note: joinDetails(`deliveries/s offered → delivered: ${ladder.join(', ')}`, best.row.note) };
}

/**
 * A window probe telling where the cores went: the gateway's (and of that its primary's, which accepts every
 * connection and relays the requests of browsers' connections), Redis's, the bench's own (client workers and publisher) and the rest of the machine's, in
 * cores; with a primary, its CPU per publish and the publishes per second its one core could relay at that cost.
 */
function coreSplit(gateway: readonly number[], redis: number, bench: () => readonly number[], hasPrimary: boolean): WindowProbe {
  const sum = (pids: readonly number[]) => pids.reduce((total, pid) => total + cpuMicros(pid), 0);
  const read = () => ({
    at: performance.now(), gateway: sum(gateway), primary: cpuMicros(gateway[0] ?? 0), redis: cpuMicros(redis), bench: sum(bench()), host: hostCpuMicros(),
  });
  let start = read();
  return {
    async start() {
      start = read();
    },
    async finish(publishes) {
      const end = read();
      const wallUs = (end.at - start.at) * 1000;
      if (wallUs <= 0) return undefined;
      const used = {
        gateway: end.gateway - start.gateway, primary: end.primary - start.primary, redis: end.redis - start.redis, bench: end.bench - start.bench,
      };
      const busy = end.host.busy - start.host.busy;
      const other = Math.max(0, busy - used.gateway - used.redis - used.bench);
      const cores = (us: number) => (us / wallUs).toFixed(2);
      const primary = hasPrimary ? ` (primary ${cores(used.primary)})` : '';
      const relay = hasPrimary && publishes > 0 && used.primary > 0
        ? `; primary ${(used.primary / publishes).toFixed(1)} µs/publish, one core relays ≤ ${(1e6 * publishes / used.primary).toFixed(0)}/s`
        : '';
      return `cores: gateway ${cores(used.gateway)}${primary}, Redis ${cores(used.redis)}, bench ${cores(used.bench)}, other ${cores(other)} of ${cpus().length}${relay}`;
    },
  };
}

/**
 * The summary under the table, per kind of load: WORKERS=2 ÷ WORKERS=1 here, in messages/s and in CPU per
 * message (the workers' and the primary's), and what that extrapolates to with a core per worker and the
 * load generator elsewhere: N × (1 s ÷ the workers' CPU per message), at most what the primary's one core
 * (it accepts every connection; a backend's is handed to a worker whole) and Redis's one core allow at their
 * CPU per message.
 */
export function formatScalingSummary(rows: readonly Row[], config: BenchConfig): string {
  const [one, two] = [config.scaling.workerCounts[0] ?? 1, config.scaling.workerCounts[1] ?? 2];
  const kinds = [
    { label: 'targeted', per: 'publish', scenario: scalingTargetedScenario },
    { label: `fan-out to ${config.scaling.roomSize}`, per: 'delivery', scenario: (w: number) => scalingFanoutScenario(config.scaling.roomSize, w) },
  ];
  return kinds.map(({ label, per, scenario }) => {
    const find = (workers: number) => rows.find((row) => row.scenario === scenario(workers) && row.server === 'switchboard');
    const [a, b] = [find(one), find(two)];
    if (a?.msgsPerS === undefined || b?.msgsPerS === undefined || a.cpuUs === undefined || b.cpuUs === undefined) return `- (g) ${label}: n/a (not measured)`;
    const primaryUs = b.perProcessCpuUs?.[0];
    const workersUs = b.cpuUs - (primaryUs ?? 0);
    const ceilings = [
      ...(primaryUs !== undefined && primaryUs > 0 ? [`${rate(1e6 / primaryUs)}/s (the primary's core)`] : []),
      ...(b.backingCpuUs !== undefined && b.backingCpuUs > 0 ? [`${rate(1e6 / b.backingCpuUs)}/s (Redis's core)`] : []),
    ];
    const split = primaryUs === undefined ? '' : `: workers ${workersUs.toFixed(1)} + primary ${primaryUs.toFixed(1)}`;
    return `- (g) ${label}: WORKERS=${two} ÷ ${one} here **${(b.msgsPerS / a.msgsPerS).toFixed(2)}×** messages/s ` +
      `(${rate(a.msgsPerS)} → ${rate(b.msgsPerS)}/s, host CPU ${pct(a.hostBusy)} → ${pct(b.hostBusy)}), CPU per ${per} ${(b.cpuUs / a.cpuUs).toFixed(2)}× ` +
      `(${a.cpuUs.toFixed(1)} → ${b.cpuUs.toFixed(1)} µs${split}). A worker per core, the load generator elsewhere: ` +
      `≈ N × ${rate(1e6 / workersUs)}/s${ceilings.length > 0 ? `, at most ${ceilings.join(' and ')}` : ''}`;
  }).join('\n');
}

function rate(perS: number): string {
  return Math.round(perS).toLocaleString('en-US');
}

function pct(share: number | undefined): string {
  return share === undefined ? '–' : `${(share * 100).toFixed(0)}%`;
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replaceAll('\n', ' / ').slice(0, 300);
}
