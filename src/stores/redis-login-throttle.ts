import type { Redis } from 'ioredis';
import { GatewayError } from '../protocol/errors.js';
import type { LoginThrottle, ThrottleLimits } from './login-throttle.js';

/**
 * Counts one attempt per key (INCR; the first starts the window's expiry) and answers the longest wait
 * in milliseconds among the keys over the limit, 0 when none is: one atomic round trip.
 */
const TAKE = `
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
return wait`;

/** Un-counts one attempt, never below zero and never touching a window that already ended. */
const FORGIVE = `
for i, key in ipairs(KEYS) do
  local attempts = tonumber(redis.call('GET', key) or '0')
  if attempts > 0 then redis.call('DECR', key) end
end
return 0`;

interface ThrottleCommands {
  switchboardLoginTake(numberOfKeys: number, ...args: (string | number)[]): Promise<number>;
  switchboardLoginForgive(numberOfKeys: number, ...keys: string[]): Promise<number>;
}

/**
 * The login throttle shared by every node: one counter per key (`{prefix}login-failures:{key}`) that
 * expires with its window. While Redis is unreachable logins are refused (ENGINE_UNAVAILABLE, 503) rather
 * than let through unthrottled.
 */
export class RedisLoginThrottle implements LoginThrottle {
  private readonly commands: ThrottleCommands;

  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
    private readonly limits: ThrottleLimits,
  ) {
    client.defineCommand('switchboardLoginTake', { lua: TAKE });
    client.defineCommand('switchboardLoginForgive', { lua: FORGIVE });
    this.commands = client as unknown as ThrottleCommands;
  }

  async take(keys: readonly string[]): Promise<number> {
    this.assertConnected();
    const waitMs = await this.commands.switchboardLoginTake(keys.length, ...keys.map((key) => this.key(key)), this.limits.maxFailures, this.limits.windowMs);
    return Math.ceil(Number(waitMs) / 1000);
  }

  async forgive(keys: readonly string[]): Promise<void> {
    this.assertConnected();
    await this.commands.switchboardLoginForgive(keys.length, ...keys.map((key) => this.key(key)));
  }

  async reset(key: string): Promise<void> {
    this.assertConnected();
    await this.client.del(this.key(key));
  }

  /** The connection belongs to the engine, which closes it. */
  async close(): Promise<void> {}

  private key(key: string): string {
    return `${this.prefix}login-failures:${key}`;
  }

  private assertConnected(): void {
    if (this.client.status !== 'ready') throw new GatewayError('ENGINE_UNAVAILABLE');
  }
}
