import { fanoutScenario, type BenchConfig } from './config.js';
import type { GoalCheck } from './report.js';

/**
 * The project's performance goals, as Switchboard ÷ plain ratios: (a) fan-out no worse (CPU per
 * delivery and p99 latency), (b) CPU per targeted publish at most half, (c) memory per connection at
 * most three quarters.
 */
export function goalChecks(config: BenchConfig): GoalCheck[] {
  return [
    ...config.fanout.flatMap((step): GoalCheck[] => [
      { label: `(a) fan-out ${step.roomSize}, CPU per delivery`, scenario: fanoutScenario(step), metric: 'cpuUs', maxRatio: 1 },
      { label: `(a) fan-out ${step.roomSize}, p99 latency`, scenario: fanoutScenario(step), metric: 'p99Ms', maxRatio: 1 },
    ]),
    {
      label: '(b) targeted, CPU per publish',
      scenario: `(b) targeted ${config.targetedUsers} users`, metric: 'cpuUs', maxRatio: 0.5,
    },
    {
      label: '(c) RSS per connection',
      scenario: `(c) memory ${config.memoryConnections} conns`, metric: 'rssKiBPerConn', maxRatio: 0.75,
    },
    {
      label: '(c) JS heap per connection',
      scenario: `(c) memory ${config.memoryConnections} conns`, metric: 'heapKiBPerConn', maxRatio: 0.75,
    },
  ];
}
