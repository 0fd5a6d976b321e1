/**
 * `npm run bench`: runs Switchboard, the plain Express + Socket.IO baseline and the bare-ws floor one at a
 * time on this machine, each as its own child process, against the same client workers and the same
 * publish schedule, then prints a Markdown table (also written to bench/results/latest.md).
 *
 * Per server: one process for (a) fan-out to a growing room and (b) targeted publishes, then a fresh
 * process for (c) memory per connection with bare `ws` clients and another with browser headers. Then (d):
 * two Switchboard processes on Redis deployments of the bench's own (one server, Sentinel, Cluster), once
 * per Socket.IO Redis adapter, with the clients on one node and the publishes sent to the other. Then (e):
 * Switchboard's auth service (login, refresh, handshakes with and without TOKEN_STATE_CHECK) on fresh
 * processes of its own. Then (f) batch against one by one, and (g) one Switchboard with WORKERS=1 against
 * WORKERS=2 on a Redis of the bench's own.
 * Knobs (BENCH_QUICK, BENCH_SERVERS, BENCH_PHASES, BENCH_REDIS, BENCH_NODE_FLAGS): see lib/config.ts and
 * bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { HEADER_PROFILES } from './lib/browser-headers.js';
import { killAll } from './lib/children.js';
import { ClientPool } from './lib/client-pool.js';
import {
  ALL_PHASES, fanoutScenario, loadBenchConfig, memoryScenario, targetedScenario, type BenchConfig, type FanoutStep,
} from './lib/config.js';
import type { ClientIdentity } from './lib/ipc.js';
import { formatClusterGoals, goalChecks } from './lib/goals.js';
import { checkLimits } from './lib/limits.js';
import { measureOnQuietHost } from './lib/quiet-host.js';
import { medianOf } from './lib/repeat.js';
import { formatRatios, formatTable, type Row } from './lib/report.js';
import { REPO_ROOT, SERVER_SPECS, startServer, type RunningServer, type ServerSpec } from './lib/servers.js';
import { singleServer } from './lib/system.js';
import { formatAuthSummary, measureAuthService, type AuthResult } from './phases/auth.js';
import { measureClusters, type ClusterRunner } from './phases/cluster.js';
import { batchScenario, measureBatch } from './phases/batch.js';
import { FANOUT_USER, measureFanout } from './phases/fanout.js';
import { MEMORY_NODE_FLAGS, measureMemory } from './phases/memory.js';
import { formatScalingSummary, measureScaling } from './phases/scaling.js';
import { measureTargeted, targetedUser } from './phases/targeted.js';

/** The whole run is killed after this long, whatever state it is in. */
const WATCHDOG_MS = 15 * 60_000;
/** Seq numbers advance by this much per measurement, so late deliveries are recognised as stale. */
const SEQ_STRIDE = 1_000_000;

async function main(): Promise<void> {
  const config = loadBenchConfig(process.env);
  checkLimits(config);
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: still running after ${WATCHDOG_MS / 60_000} min, giving up\n`);
    killAll();
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();

  const started = performance.now();
  const pool = ClientPool.start(config.workers);
  const rows: Row[] = [];
  let seqBase = SEQ_STRIDE;
  const nextSeqBase = () => (seqBase += SEQ_STRIDE);
  let auth: AuthResult | undefined;
  try {
    for (const name of config.servers) {
      const spec = SERVER_SPECS.find((s) => s.name === name);
      if (spec === undefined) continue;
      const throughput = (['a', 'b'] as const).filter((phase) => config.phases.has(phase));
      if (throughput.length > 0) {
        const steps = config.phases.has('a') ? config.fanout : [];
        rows.push(...await guarded(spec, throughput.map((phase) => `(${phase})`).join('+'), pool, config.serverNodeFlags,
          (server) => throughputPhases(server, pool, config, nextSeqBase, steps, config.phases.has('b'))));
      }
      if (!config.phases.has('c')) continue;
      for (const headers of HEADER_PROFILES) {
        rows.push(...await guarded(spec, memoryScenario(config.memoryConnections, headers), pool,
          [...config.serverNodeFlags, ...MEMORY_NODE_FLAGS],
          async (server) => [await measureOnQuietHost(() => measureMemory(server, pool, config, headers), log, 0)]));
      }
    }
    if (config.phases.has('d') && !config.servers.includes('switchboard')) log('skipping (d): BENCH_SERVERS has no switchboard');
    else if (config.phases.has('d')) rows.splice(clusterRowsAt(rows), 0, ...await clusterPhase(pool, config, nextSeqBase, rows));
    if (config.phases.has('e') && !config.servers.includes('switchboard')) log('skipping (e): BENCH_SERVERS has no switchboard');
    else if (config.phases.has('e')) {
      auth = await measureAuthService({
        config,
        benchPids: () => pool.pids(),
        onServer: (spec, label, measure) => guarded(spec, label, pool, config.serverNodeFlags, measure),
        log,
      });
      rows.push(...auth.rows);
    }
    if (config.phases.has('f') && !config.servers.includes('switchboard')) log('skipping (f): BENCH_SERVERS has no switchboard');
    else if (config.phases.has('f')) {
      const spec = SERVER_SPECS.find((s) => s.name === 'switchboard');
      if (spec !== undefined) rows.push(...await guarded(spec, '(f)', pool, config.serverNodeFlags, (server) => batchPhase(server, pool, config, nextSeqBase)));
    }
    if (config.phases.has('g') && !config.servers.includes('switchboard')) log('skipping (g): BENCH_SERVERS has no switchboard');
    else if (config.phases.has('g')) {
      rows.push(...await measureScaling(phaseRunner(pool, config, nextSeqBase)));
    }
  } finally {
    await pool.stop();
  }

  const report = [
    `## Switchboard bench${config.quick ? ' (BENCH_QUICK)' : ''}`,
    '',
    `${new Date().toISOString()} · Node ${process.version} · ${cpus().length}× ${cpus()[0]?.model ?? 'unknown CPU'} · ` +
      `${config.workers} client workers · ${((performance.now() - started) / 1000).toFixed(0)} s` +
      (config.phases.size < ALL_PHASES.length ? ` · phases ${[...config.phases].sort().join(',')}` : ''),
    '',
    formatTable(rows),
    '',
    ...(goalChecks(config).length > 0
      ? ['Ratios (Switchboard ÷ plain Express + Socket.IO):', '', formatRatios(rows, goalChecks(config)), '']
      : []),
    ...(rows.some((row) => row.server === 'switchboard×2')
      ? ['Two nodes over Redis (clients on node A, publishes to node B) against one node (a):', '', formatClusterGoals(rows, config), '']
      : []),
    ...(config.phases.has('g') && config.servers.includes('switchboard')
      ? ['One gateway, WORKERS=1 against WORKERS=2 on the same Redis (g):', '', formatScalingSummary(rows, config), '']
      : []),
    ...(auth === undefined
      ? []
      : ['Auth service (e), Switchboard only (CPU µs/msg and msgs/s are per request or handshake):', '',
        formatAuthSummary(rows, auth.argon2, config.auth.concurrency), '']),
  ].join('\n');
  process.stdout.write(`${report}\n`);
  const resultsDir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.md'), report);
}

/** (f) One room of `config.batch.roomSize` clients; the bursts as one batch, then one publish each. */
async function batchPhase(server: RunningServer, pool: ClientPool, config: BenchConfig, nextSeqBase: () => number): Promise<Row[]> {
  await connectOrThrow(server, pool, config, range(0, config.batch.roomSize, (i): ClientIdentity => ({ userId: FANOUT_USER, sessionId: `batch-${i}` })));
  const rows: Row[] = [];
  for (const mode of ['batch', 'one by one'] as const) {
    log(`${server.spec.name}: ${batchScenario(config.batch.roomSize, config.batch.perBurst, mode)}`);
    rows.push(await medianOf(config.repeats, () => measureBatch(server, pool, config, nextSeqBase(), mode), log));
  }
  return rows;
}

/**
 * (a) for each of `steps` (the room grows on the same process), then (b) with fresh clients if `targeted`.
 */
async function throughputPhases(
  server: RunningServer, pool: ClientPool, config: BenchConfig, nextSeqBase: () => number,
  steps: readonly FanoutStep[], targeted: boolean,
): Promise<Row[]> {
  const system = singleServer(server);
  const rows: Row[] = [];
  let connected = 0;
  for (const step of steps) {
    const identities = range(connected, step.roomSize, (i): ClientIdentity => ({ userId: FANOUT_USER, sessionId: `fanout-${i}` }));
    await connectOrThrow(server, pool, config, identities);
    connected = step.roomSize;
    log(`${server.spec.name}: ${fanoutScenario(step)}`);
    rows.push(await medianOf(config.repeats, () => measureFanout(system, fanoutScenario(step), pool, config, step, nextSeqBase()), log));
  }
  await pool.closeAll();
  if (!targeted) return rows;
  await connectOrThrow(server, pool, config,
    range(0, config.targetedUsers, (i): ClientIdentity => ({ userId: targetedUser(i), sessionId: `targeted-${i}` })));
  log(`${server.spec.name}: (b) ${config.targetedPublishes} targeted publishes`);
  rows.push(await medianOf(config.repeats, () => measureTargeted(system, targetedScenario(config.targetedUsers), pool, config, nextSeqBase()), log));
  await pool.closeAll();
  return rows;
}

/**
 * (d), plus the single-node row it is compared with when (a) did not measure it (BENCH_PHASES without a):
 * the first (a) step on a fresh in-memory Switchboard.
 */
async function clusterPhase(pool: ClientPool, config: BenchConfig, nextSeqBase: () => number, rows: readonly Row[]): Promise<Row[]> {
  const spec = SERVER_SPECS.find((s) => s.name === 'switchboard');
  if (spec === undefined) throw new Error('no switchboard spec');
  const reference = rows.some((row) => row.server === 'switchboard' && row.scenario === fanoutScenario(config.clusterFanout))
    ? []
    : await guarded(spec, '(a) reference for (d)', pool, config.serverNodeFlags,
      (server) => throughputPhases(server, pool, config, nextSeqBase, [config.clusterFanout], false));
  const cluster = await measureClusters(phaseRunner(pool, config, nextSeqBase));
  return [...reference, ...cluster];
}

/** What (d) and (g), which start their own servers, need from the runner: connecting, the median of repeats, seq ranges, logging. */
function phaseRunner(pool: ClientPool, config: BenchConfig, nextSeqBase: () => number): ClusterRunner {
  return {
    pool,
    config,
    nextSeqBase,
    connect: (server, identities) => connectOrThrow(server, pool, config, identities),
    repeat: (measure) => medianOf(config.repeats, measure, log),
    log,
  };
}

/** Where (d)'s rows go in the table: right after single-node Switchboard's (a) rows (at the end without them). */
function clusterRowsAt(rows: readonly Row[]): number {
  const lastFanout = rows.findLastIndex((row) => row.server === 'switchboard' && row.scenario.startsWith('(a)'));
  return lastFanout < 0 ? rows.length : lastFanout + 1;
}

async function connectOrThrow(
  server: RunningServer, pool: ClientPool, config: BenchConfig, identities: readonly ClientIdentity[],
): Promise<void> {
  const result = await pool.connect(server.wsUrl, identities, config.connectBatch, config.connectTimeoutMs);
  if (result.failed > 0) {
    throw new Error(`${result.failed} of ${identities.length} clients failed to connect: ${result.errors.join('; ')}`);
  }
}

/**
 * Runs phases on a fresh server process, then closes all clients and stops it; a failure becomes a row with the reason
 * (and the server's last log lines on stderr) so the other servers are still measured.
 */
async function guarded(
  spec: ServerSpec, label: string, pool: ClientPool, nodeFlags: readonly string[],
  phases: (server: RunningServer) => Promise<Row[]>,
): Promise<Row[]> {
  log(`${spec.name}: starting for ${label}`);
  let server: RunningServer | undefined;
  try {
    server = await startServer(spec, { nodeFlags });
    return await phases(server);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`${spec.name}: ${label} failed: ${message}${server === undefined ? '' : `\n--- server log ---\n${server.logTail()}`}`);
    return [{ scenario: label, server: spec.name, note: `FAILED: ${message.replaceAll('\n', ' / ').slice(0, 300)}` }];
  } finally {
    await pool.closeAll().catch(() => undefined);
    await server?.stop();
  }
}

function range<T>(from: number, to: number, make: (i: number) => T): T[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, k) => make(from + k));
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    killAll();
    process.exit(1);
  },
);
