import type { Redis } from 'ioredis';
import { GatewayError } from '../protocol/errors.js';
import type { ActiveSessionStore } from './active-sessions.js';

/**
 * Active sessions in Redis, one string key per user (`{prefix}active-session:{userId}`), shared by every
 * node. `claimSession` is a single `SET … GET`, so two logins racing on two nodes leave exactly one winner.
 * While Redis is unreachable every call fails at once with ENGINE_UNAVAILABLE instead of queueing.
 */
export class RedisSessionStore implements ActiveSessionStore {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}

  async activeSession(userId: string): Promise<string | undefined> {
    this.assertConnected();
    return (await this.client.get(this.key(userId))) ?? undefined;
  }

  async setActiveSession(userId: string, sessionId: string): Promise<void> {
    this.assertConnected();
    await this.client.set(this.key(userId), sessionId);
  }

  async claimSession(userId: string, sessionId: string): Promise<string | undefined> {
    this.assertConnected();
    return (await this.client.set(this.key(userId), sessionId, 'GET')) ?? undefined;
  }

  private key(userId: string): string {
    return `${this.prefix}active-session:${userId}`;
  }

  private assertConnected(): void {
    if (this.client.status !== 'ready') throw new GatewayError('ENGINE_UNAVAILABLE');
  }
}
