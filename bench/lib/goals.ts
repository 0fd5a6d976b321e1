import { HEADER_PROFILES } from './browser-headers.js';
import {
  clusterFanoutScenario, clusterTargetedScenario, fanoutScenario, memoryScenario, targetedScenario,
  type BenchConfig, type RedisAdapterName,
} from './config.js';
import type { GoalCheck, Row, RowServer } from './report.js';

/**
 * The project's performance goals, as Switchboard ÷ plain ratios: (a) fan-out CPU per delivery at most
 * 0.9× (issue 15) and p99 latency no worse, (b) CPU per targeted publish at most half, (c) memory per connection at
 * most three quarters, with bare `ws` clients and with a browser's header set (lib/browser-headers.ts).
 * Only the phases selected by BENCH_PHASES are checked.
 */
export function goalChecks(config: BenchConfig): GoalCheck[] {
  const { phases } = config;
  return [
    ...(phases.has('a') ? config.fanout.flatMap((step): GoalCheck[] => [
      { label: `(a) fan-out ${step.roomSize}, CPU per delivery`, scenario: fanoutScenario(step), metric: 'cpuUs', maxRatio: 0.9 },
      { label: `(a) fan-out ${step.roomSize}, p99 latency`, scenario: fanoutScenario(step), metric: 'p99Ms', maxRatio: 1 },
    ]) : []),
    ...(phases.has('b') ? [{
      label: '(b) targeted, CPU per publish',
      scenario: targetedScenario(config.targetedUsers), metric: 'cpuUs', maxRatio: 0.5,
    } satisfies GoalCheck] : []),
    ...(phases.has('c') ? HEADER_PROFILES.flatMap((headers): GoalCheck[] => [
      {
        label: `(c) RSS per connection, ${headers} headers`,
        scenario: memoryScenario(config.memoryConnections, headers), metric: 'rssKiBPerConn', maxRatio: 0.75,
      },
      {
        label: `(c) JS heap per connection, ${headers} headers`,
        scenario: memoryScenario(config.memoryConnections, headers), metric: 'heapKiBPerConn', maxRatio: 0.75,
      },
    ]) : []),
  ];
}

/** A row whose kept run had more outside load than this gets a warning on its goal line. */
const DISTURBED_ABOVE = 0.1;

/** Cross-node fan-out may add at most this much to the single-node p50 latency at the same load. */
export const CLUSTER_P50_MAX_EXTRA_MS = 2;

/**
 * Phase (d)'s goal lines, per topology and adapter: the cross-node fan-out p50 at most
 * {@link CLUSTER_P50_MAX_EXTRA_MS} above single-node Switchboard's (the first (a) row, same room and
 * schedule), no message lost (fan-out and targeted, summed over the repeats), and what a targeted publish
 * costs (both nodes, Redis, the sum); then, on each topology with two adapters or more, the first ÷ each
 * other CPU ratios (both nodes; with Redis).
 */
export function formatClusterGoals(rows: readonly Row[], config: BenchConfig): string {
  const find = (scenario: string, server: RowServer) => rows.find((row) => row.scenario === scenario && row.server === server);
  const step = config.clusterFanout;
  const single = find(fanoutScenario(step), 'switchboard');
  const lines: string[] = [];
  for (const { topology, adapters } of config.redis) {
    for (const adapter of adapters) {
      const name = `(d) ${topology} ${adapter}`;
      const fanout = find(clusterFanoutScenario(step, topology, adapter), 'switchboard×2');
      const targeted = find(clusterTargetedScenario(config.targetedUsers, topology, adapter), 'switchboard×2');
      lines.push(latencyLine(name, step.roomSize, fanout, single), lossLine(name, fanout, targeted));
      if (targeted?.cpuUs !== undefined) {
        const redis = targeted.backingCpuUs ?? 0;
        lines.push(
          `- ${name}, cost per targeted publish: both nodes ${targeted.cpuUs.toFixed(2)} µs + Redis (all its processes) ` +
            `${redis.toFixed(2)} µs = **${(targeted.cpuUs + redis).toFixed(2)} µs**`,
        );
      }
    }
    const [first, ...others] = adapters;
    if (first === undefined) continue;
    for (const other of others) {
      const scenarios: [string, (adapter: RedisAdapterName) => string][] = [
        ['fan-out, CPU per delivery', (adapter) => clusterFanoutScenario(step, topology, adapter)],
        ['targeted, CPU per publish', (adapter) => clusterTargetedScenario(config.targetedUsers, topology, adapter)],
      ];
      for (const [label, scenarioOf] of scenarios) {
        lines.push(ratioLine(`(d) ${topology} ${first} ÷ ${other}, ${label}`, find(scenarioOf(first), 'switchboard×2'), find(scenarioOf(other), 'switchboard×2')));
      }
    }
  }
  return lines.join('\n');
}

/** "- name, cross-node p50 latency at N clients: 2 nodes X ms − 1 node Y ms = +Z ms (goal ≤ +2 ms) PASS". */
function latencyLine(name: string, roomSize: number, fanout: Row | undefined, single: Row | undefined): string {
  if (fanout?.p50Ms === undefined || single?.p50Ms === undefined) {
    return `- ${name}, cross-node p50 latency: n/a (${fanout?.p50Ms === undefined ? 'not measured' : 'no single-node (a) row'})`;
  }
  const extra = fanout.p50Ms - single.p50Ms;
  const disturbed = [['1 node', single], ['2 nodes', fanout]] as const;
  const warnings = disturbed.filter(([, row]) => (row.otherBusy ?? 0) > DISTURBED_ABOVE)
    .map(([label, row]) => `${label} measured under other load (${((row.otherBusy ?? 0) * 100).toFixed(0)}% of host)`);
  return `- ${name}, cross-node p50 latency at ${roomSize} clients: 2 nodes ${fanout.p50Ms.toFixed(2)} ms − 1 node ` +
    `${single.p50Ms.toFixed(2)} ms = **${signed(extra)} ms** (goal ≤ +${CLUSTER_P50_MAX_EXTRA_MS} ms) ` +
    `${extra <= CLUSTER_P50_MAX_EXTRA_MS ? 'PASS' : 'MISS'}; first delivery ${signed((fanout.firstDeliveryMs ?? NaN) - (single.firstDeliveryMs ?? NaN))} ms, ` +
    `p99 ${signed((fanout.p99Ms ?? NaN) - (single.p99Ms ?? NaN))} ms${warnings.length > 0 ? `; ⚠ ${warnings.join(', ')}` : ''}`;
}

/** "- name, loss (fan-out + targeted, all runs): N lost, M duplicates (goal 0 lost) PASS". */
function lossLine(name: string, fanout: Row | undefined, targeted: Row | undefined): string {
  const measured = [fanout, targeted].filter((row): row is Row => row?.lost !== undefined);
  if (measured.length === 0) return `- ${name}, loss: n/a (not measured)`;
  const lost = measured.reduce((sum, row) => sum + (row.lost ?? 0), 0);
  const duplicates = measured.reduce((sum, row) => sum + (row.duplicates ?? 0), 0);
  const partial = measured.length < 2 ? ' (fan-out or targeted not measured)' : '';
  return `- ${name}, loss (fan-out + targeted, all runs): **${lost} lost**, ${duplicates} duplicates (goal 0 lost) ` +
    `${lost === 0 ? 'PASS' : 'MISS'}${duplicates > 0 ? ' — duplicates seen' : ''}${partial}`;
}

/** "- label: both nodes X / Y µs = R×; nodes + Redis X' / Y' µs = R'×", or n/a. */
function ratioLine(label: string, a: Row | undefined, b: Row | undefined): string {
  if (a?.cpuUs === undefined || b?.cpuUs === undefined || b.cpuUs === 0) return `- ${label}: n/a (not measured)`;
  const withRedis = (row: Row) => (row.cpuUs ?? 0) + (row.backingCpuUs ?? 0);
  return `- ${label}: both nodes ${a.cpuUs.toFixed(2)} / ${b.cpuUs.toFixed(2)} µs = **${(a.cpuUs / b.cpuUs).toFixed(2)}×**; ` +
    `nodes + Redis ${withRedis(a).toFixed(2)} / ${withRedis(b).toFixed(2)} µs = **${(withRedis(a) / withRedis(b)).toFixed(2)}×**`;
}

function signed(value: number): string {
  return Number.isFinite(value) ? `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)}` : 'n/a';
}
