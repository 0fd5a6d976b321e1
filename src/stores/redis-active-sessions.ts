import type { ActiveSessionStore } from './active-sessions.js';
import type { RedisConnection } from './redis-connection.js';
import { RedisKeys } from './redis-keys.js';

const UNAVAILABLE = 'Active sessions are unavailable';

/**
 * Active sessions in Redis, one string key per user (`{prefix}active-session:{userId}`), shared by every
 * node. `claimSession` is a single `SET … GET`, so two logins racing on two nodes leave exactly one winner.
 * While Redis is unreachable or failing every call fails at once with ENGINE_UNAVAILABLE instead of queueing.
 */
export class RedisActiveSessions implements ActiveSessionStore {
  private readonly keys: RedisKeys;

  constructor(
    private readonly connection: RedisConnection,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  async activeSession(userId: string): Promise<string | undefined> {
    return this.connection.run(UNAVAILABLE, async (client) => (await client.get(this.keys.activeSession(userId))) ?? undefined);
  }

  async setActiveSession(userId: string, sessionId: string): Promise<void> {
    await this.connection.run(UNAVAILABLE, (client) => client.set(this.keys.activeSession(userId), sessionId));
  }

  async claimSession(userId: string, sessionId: string): Promise<string | undefined> {
    return this.connection.run(UNAVAILABLE, async (client) => (await client.set(this.keys.activeSession(userId), sessionId, 'GET')) ?? undefined);
  }
}
