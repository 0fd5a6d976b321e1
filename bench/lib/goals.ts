import { HEADER_PROFILES } from './browser-headers.js';
import {
  clusterFanoutScenario, clusterTargetedScenario, fanoutScenario, memoryScenario, targetedScenario,
  type BenchConfig, type RedisAdapterName,
} from './config.js';
import type { GoalCheck, Row, RowServer } from './report.js';

/**
 * The project's performance goals, as Switchboard ÷ plain ratios: (a) fan-out no worse (CPU per
 * delivery and p99 latency), (b) CPU per targeted publish at most half, (c) memory per connection at
 * most three quarters, with bare `ws` clients and with a browser's header set (lib/browser-headers.ts).
 * Only the phases selected by BENCH_PHASES are checked.
 */
export function goalChecks(config: BenchConfig): GoalCheck[] {
  const { phases } = config;
  return [
    ...(phases.has('a') ? config.fanout.flatMap((step): GoalCheck[] => [
      { label: `(a) fan-out ${step.roomSize}, CPU per delivery`, scenario: fanoutScenario(step), metric: 'cpuUs', maxRatio: 1 },
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
 * Phase (d)'s goal lines, per adapter: the cross-node fan-out p50 at most {@link CLUSTER_P50_MAX_EXTRA_MS}
 * above single-node Switchboard's (the first (a) row, same room and schedule), and no message lost (fan-out
 * and targeted, summed over the repeats); then the streams ÷ pubsub CPU ratios (both nodes; with Redis).
 */
export function formatClusterGoals(rows: readonly Row[], config: BenchConfig): string {
  const find = (scenario: string, server: RowServer) => rows.find((row) => row.scenario === scenario && row.server === server);
  const step = config.clusterFanout;
  const single = find(fanoutScenario(step), 'switchboard');
  const lines: string[] = [];
  for (const adapter of config.redisAdapters) {
    const fanout = find(clusterFanoutScenario(step, adapter), 'switchboard×2');
    const targeted = find(clusterTargetedScenario(config.targetedUsers, adapter), 'switchboard×2');
    if (fanout?.p50Ms === undefined || single?.p50Ms === undefined) {
      lines.push(`- (d) ${adapter}, cross-node p50 latency: n/a (${fanout?.p50Ms === undefined ? 'not measured' : 'no single-node (a) row'})`);
    } else {
      const extra = fanout.p50Ms - single.p50Ms;
      const disturbed = [['1 node', single], ['2 nodes', fanout]] as const;
      const warnings = disturbed.filter(([, row]) => (row.otherBusy ?? 0) > DISTURBED_ABOVE)
        .map(([name, row]) => `${name} measured under other load (${((row.otherBusy ?? 0) * 100).toFixed(0)}% of host)`);
      lines.push(
        `- (d) ${adapter}, cross-node p50 latency at ${step.roomSize} clients: 2 nodes ${fanout.p50Ms.toFixed(2)} ms − 1 node ` +
          `${single.p50Ms.toFixed(2)} ms = **${signed(extra)} ms** (goal ≤ +${CLUSTER_P50_MAX_EXTRA_MS} ms) ` +
          `${extra <= CLUSTER_P50_MAX_EXTRA_MS ? 'PASS' : 'MISS'}; first delivery ${signed((fanout.firstDeliveryMs ?? NaN) - (single.firstDeliveryMs ?? NaN))} ms, ` +
          `p99 ${signed((fanout.p99Ms ?? NaN) - (single.p99Ms ?? NaN))} ms${warnings.length > 0 ? `; ⚠ ${warnings.join(', ')}` : ''}`,
      );
    }
    const measured = [fanout, targeted].filter((row): row is Row => row?.lost !== undefined);
    if (measured.length === 0) {
      lines.push(`- (d) ${adapter}, loss: n/a (not measured)`);
    } else {
      const lost = measured.reduce((sum, row) => sum + (row.lost ?? 0), 0);
      const duplicates = measured.reduce((sum, row) => sum + (row.duplicates ?? 0), 0);
      const partial = measured.length < 2 ? ' (fan-out or targeted not measured)' : '';
      lines.push(
        `- (d) ${adapter}, loss (fan-out + targeted, all runs): **${lost} lost**, ${duplicates} duplicates (goal 0 lost) ` +
          `${lost === 0 ? 'PASS' : 'MISS'}${duplicates > 0 ? ' — duplicates seen' : ''}${partial}`,
      );
    }
  }
  const [first, second] = config.redisAdapters;
  if (first !== undefined && second !== undefined) {
    const scenarios: [string, (adapter: RedisAdapterName) => string, string][] = [
      ['fan-out, CPU per delivery', (adapter) => clusterFanoutScenario(step, adapter), 'delivery'],
      ['targeted, CPU per publish', (adapter) => clusterTargetedScenario(config.targetedUsers, adapter), 'publish'],
    ];
    for (const [label, scenarioOf] of scenarios) {
      const a = find(scenarioOf(first), 'switchboard×2');
      const b = find(scenarioOf(second), 'switchboard×2');
      if (a?.cpuUs === undefined || b?.cpuUs === undefined || b.cpuUs === 0) {
        lines.push(`- (d) ${first} ÷ ${second}, ${label}: n/a (not measured)`);
        continue;
      }
      const withRedis = (row: Row) => (row.cpuUs ?? 0) + (row.backingCpuUs ?? 0);
      lines.push(
        `- (d) ${first} ÷ ${second}, ${label}: both nodes ${a.cpuUs.toFixed(2)} / ${b.cpuUs.toFixed(2)} µs = ` +
          `**${(a.cpuUs / b.cpuUs).toFixed(2)}×**; nodes + Redis ${withRedis(a).toFixed(2)} / ${withRedis(b).toFixed(2)} µs = ` +
          `**${(withRedis(a) / withRedis(b)).toFixed(2)}×**`,
      );
    }
  }
  return lines.join('\n');
}

function signed(value: number): string {
  return Number.isFinite(value) ? `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)}` : 'n/a';
}
