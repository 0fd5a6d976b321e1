import type { BenchRedis } from './redis.js';
import type { WindowProbe } from './system.js';

/** Commands that are the bench's own (the probe's), not Switchboard's. */
const PROBE_COMMANDS = new Set(['config', 'info', 'flushall', 'ping']);
/** How many commands the note lists. */
const TOP_COMMANDS = 4;

/**
 * The Redis commands Switchboard ran in a measurement window, per publish, summed over `masters` (the
 * servers that take its commands: a cluster's three): `CONFIG RESETSTAT` on each before, `INFO
 * commandstats` on each after. Shows the few that took most of Redis's command time (calls and µs per publish).
 */
export function redisCommandStats(masters: readonly BenchRedis[]): WindowProbe {
  return {
    async start() {
      await Promise.all(masters.map((redis) => redis.command('CONFIG RESETSTAT')));
    },
    async finish(publishes) {
      if (publishes <= 0) return undefined;
      const totals = new Map<string, { calls: number; usec: number }>();
      for (const reply of await Promise.all(masters.map((redis) => redis.command('INFO commandstats')))) {
        for (const [, name = '?', calls, usec] of reply.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
          if (PROBE_COMMANDS.has(name.split('|')[0] ?? '')) continue;
          const total = totals.get(name) ?? { calls: 0, usec: 0 };
          totals.set(name, { calls: total.calls + Number(calls), usec: total.usec + Number(usec) });
        }
      }
      const top = [...totals].sort(([, a], [, b]) => b.usec - a.usec).slice(0, TOP_COMMANDS);
      if (top.length === 0) return undefined;
      const per = (value: number) => (value / publishes).toFixed(value / publishes >= 10 ? 0 : 1);
      const where = masters.length > 1 ? ` (${masters.length} masters)` : '';
      return `Redis per publish${where}: ${top.map(([name, stat]) => `${name} ${per(stat.calls)}× ${per(stat.usec)} µs`).join(', ')}`;
    },
  };
}
