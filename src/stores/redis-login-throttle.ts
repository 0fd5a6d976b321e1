import type { LoginThrottle, ThrottleLimits } from './login-throttle.js';
import type { RedisConnection } from './redis-connection.js';
import { RedisKeys } from './redis-keys.js';
import { LuaScript } from './redis-scripts.js';

/**
 * Counts one attempt per key (INCR; the first starts the window's expiry) and answers the longest wait
 * in milliseconds among the keys over the limit, 0 when none is: one atomic round trip.
 */
const TAKE = new LuaScript<string[], [maxFailures: number, windowMs: number], number>('switchboardLoginTake', 'variable', `
local wait = 0
for i, key in ipairs(KEYS) do
  local attempts = redis.call('INCR', key)
  if attempts == 1 then redis.call('PEXPIRE', key, ARGV[2]) end
  if attempts > tonumber(ARGV[1]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then ttl = tonumber(ARGV[2]) end
    if ttl > wait then wait = ttl end
  end
end
return wait`);

/** Un-counts one attempt, never below zero and never touching a window that already ended. */
const FORGIVE = new LuaScript<string[], [], number>('switchboardLoginForgive', 'variable', `
for i, key in ipairs(KEYS) do
  local attempts = tonumber(redis.call('GET', key) or '0')
  if attempts > 0 then redis.call('DECR', key) end
end
return 0`);

const UNAVAILABLE = 'The login throttle is unavailable';

/**
 * The login throttle shared by every node: one counter per key (`{login-failures}:{key}`, all in one hash
 * slot, as one attempt counts several keys atomically; see RedisKeys) that expires with its window. While Redis is unreachable or failing logins are refused (ENGINE_UNAVAILABLE,
 * which the auth routes answer as 503 AUTH_UNAVAILABLE) rather than let through unthrottled.
 */
export class RedisLoginThrottle implements LoginThrottle {
  private readonly keys: RedisKeys;

  constructor(
    private readonly connection: RedisConnection,
    prefix: string,
    private readonly limits: ThrottleLimits,
  ) {
    this.keys = new RedisKeys(prefix);
    connection.registerScripts(TAKE, FORGIVE);
  }

  async take(keys: readonly string[]): Promise<number> {
    const waitMs = await this.connection.run(UNAVAILABLE, (client) =>
      TAKE.run(client, keys.map((key) => this.keys.loginFailures(key)), [this.limits.maxFailures, this.limits.windowMs]));
    return Math.ceil(Number(waitMs) / 1000);
  }

  async forgive(keys: readonly string[]): Promise<void> {
    await this.connection.run(UNAVAILABLE, (client) => FORGIVE.run(client, keys.map((key) => this.keys.loginFailures(key)), []));
  }

  async reset(key: string): Promise<void> {
    await this.connection.run(UNAVAILABLE, (client) => client.del(this.keys.loginFailures(key)));
  }

  /** The connection belongs to the composition root, which closes it. */
  async close(): Promise<void> {}
}
