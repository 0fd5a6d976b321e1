import { HEADER_PROFILES } from './browser-headers.js';
import { fanoutScenario, memoryScenario, type BenchConfig } from './config.js';
import type { GoalCheck } from './report.js';

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
      scenario: `(b) targeted ${config.targetedUsers} users`, metric: 'cpuUs', maxRatio: 0.5,
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
