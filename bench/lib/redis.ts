import { startRedis as startOwnRedis, type TestRedis } from '../../test/support/redis.js';
import { track } from './children.js';

/** A `redis-server` the bench started for itself (alone or in a Sentinel group or cluster), on its own free port. */
export interface BenchRedis {
  readonly pid: number;
  readonly port: number;
  /** `redis://127.0.0.1:<port>/0`, Switchboard's REDIS_URL. */
  readonly url: string;
  /** Sends one command (e.g. `INFO commandstats`, words split on spaces) and resolves with the raw reply text. */
  readonly command: (line: string) => Promise<string>;
  /** The last lines the server wrote, for error reports. */
  readonly logTail: () => string;
  /** SIGTERM (nothing to save), then SIGKILL if it has not exited within 5 s. */
  readonly stop: () => Promise<void>;
}

/**
 * Starts `redis-server` (from PATH) on a free 127.0.0.1 port with no RDB snapshots and no AOF, and waits
 * until it answers PING: the test suite's launcher (test/support/redis.ts), stopped by the bench itself. The
 * child is tracked (lib/children.ts), so an error, an exit or Ctrl-C stops it.
 */
export async function startRedis(readyTimeoutMs = 10_000): Promise<BenchRedis> {
  return benchRedis(await startOwnRedis({ cleanup: 'manual', readyTimeoutMs, onSpawn: track }));
}

/** The bench's view of a server the test suite's launchers started (`cleanup: 'manual'`, tracked). */
export function benchRedis(redis: TestRedis): BenchRedis {
  return {
    pid: redis.pid,
    port: redis.port,
    url: redis.url,
    command: (line) => redis.command(...line.trim().split(/\s+/)),
    logTail: () => redis.output().split('\n').filter((line) => line.length > 0).slice(-20).join('\n'),
    stop: () => redis.stop(),
  };
}
