import type { Redis } from 'ioredis';
import { GatewayError } from '../errors/catalog.js';
import type { LoginThrottle, ThrottleLimits } from '../accounts/login-throttle.js';

/** INCR, and start the window's expiry with the first failure (one round trip, atomic). */
const RECORD_FAILURE = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

/**
 * The login throttle shared by every node: one counter per key (`{prefix}login-failures:{key}`) that
 * expires with its window. While Redis is unreachable logins are refused (ENGINE_UNAVAILABLE, 503) rather
 * than let through unthrottled.
 */
export class RedisLoginThrottle implements LoginThrottle {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
    private readonly limits: ThrottleLimits,
  ) {
    client.defineCommand('switchboardLoginFailure', { numberOfKeys: 1, lua: RECORD_FAILURE });
  }

  async blockedFor(keys: readonly string[]): Promise<number> {
    this.assertConnected();
    const pipeline = this.client.pipeline();
    for (const key of keys) pipeline.get(this.key(key)).pttl(this.key(key));
    const replies = (await pipeline.exec()) ?? [];
    let waitMs = 0;
    for (let i = 0; i < keys.length; i += 1) {
      const [countError, count] = replies[2 * i] ?? [];
      const [ttlError, ttl] = replies[2 * i + 1] ?? [];
      if (countError || ttlError) throw new GatewayError('ENGINE_UNAVAILABLE', undefined, { retryAfterS: 1 });
      if (Number(count ?? 0) >= this.limits.maxFailures) waitMs = Math.max(waitMs, Number(ttl) > 0 ? Number(ttl) : this.limits.windowMs);
    }
    return Math.ceil(waitMs / 1000);
  }

  async recordFailure(keys: readonly string[]): Promise<void> {
    this.assertConnected();
    const command = this.client as unknown as { switchboardLoginFailure(key: string, windowMs: number): Promise<number> };
    await Promise.all(keys.map((key) => command.switchboardLoginFailure(this.key(key), this.limits.windowMs)));
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
    if (this.client.status !== 'ready') throw new GatewayError('ENGINE_UNAVAILABLE', undefined, { retryAfterS: 1 });
  }
}
