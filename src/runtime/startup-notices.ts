import { describeRedisTarget, type RedisTarget } from '../config/redis-target.js';
import { redactUrlPasswords } from './logger.js';
import { oneLineMessage } from './error-message.js';

/**
 * What a person starting the gateway must read first when a backing service is not there: said plainly,
 * with the variable that points at it and what to do. Credentials in URLs are replaced.
 */

/** The Redis engine could not reach Redis at start: the node runs, not ready, and keeps retrying. */
export function redisUnreachableNotice(target: RedisTarget, variable: string): string {
  return `Redis is unreachable at ${describeRedisTarget(target, redactUrlPasswords)} (${variable}). The gateway runs but is not ready: /readyz answers 503 and ` +
    'publishes are refused with ENGINE_UNAVAILABLE until Redis answers; it keeps retrying. Start Redis there, fix ' +
    `${variable}, or unset it to run one node on the in-memory engine.`;
}

/** The auth service's PostgreSQL could not be opened at start: the gateway does not start. */
export function postgresUnreachableNotice(url: string, error: unknown): string {
  return `PostgreSQL at ${redactUrlPasswords(url)} (DATABASE_URL) cannot be used: ${oneLineMessage(error)}. Start PostgreSQL there or fix ` +
    'DATABASE_URL (unset, the auth service keeps its users in SQLite under DATA_DIR).';
}
