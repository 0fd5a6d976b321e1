import type { ActiveSessionStore } from './active-sessions.js';
import type { RedisConnection } from './redis-connection.js';

const UNAVAILABLE = 'Active sessions are unavailable';

/**
 * Active sessions in Redis, one string key per user (`{prefix}active-session:{userId}`), shared by every
 * node. `claimSession` is a single `SET … GET`, so two logins racing on two nodes leave exactly one winner.
 * While Redis is unreachable or failing every call fails at once with ENGINE_UNAVAILABLE instead of queueing.
 */
export class RedisActiveSessions implements ActiveSessionStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
  ) {}

  async activeSession(userId: string): Promise<string | undefined> {
    return this.connection.run(UNAVAILABLE, async (client) => (await client.get(this.key(userId))) ?? undefined);
  }

  async setActiveSession(userId: string, sessionId: string): Promise<void> {
    await this.connection.run(UNAVAILABLE, (client) => client.set(this.key(userId), sessionId));
  }

  async claimSession(userId: string, sessionId: string): Promise<string | undefined> {
    return this.connection.run(UNAVAILABLE, async (client) => (await client.set(this.key(userId), sessionId, 'GET')) ?? undefined);
  }

  private key(userId: string): string {
    return `${this.prefix}active-session:${userId}`;
  }
}
