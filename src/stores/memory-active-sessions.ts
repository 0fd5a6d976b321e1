import type { ActiveSessionStore } from './active-sessions.js';

/** Active sessions in a Map: one entry per user that has one. */
export class MemoryActiveSessions implements ActiveSessionStore {
  private readonly active = new Map<string, string>();

  async activeSession(userId: string): Promise<string | undefined> {
    return this.active.get(userId);
  }

  async setActiveSession(userId: string, sessionId: string): Promise<void> {
    this.active.set(userId, sessionId);
  }

  async claimSession(userId: string, sessionId: string): Promise<string | undefined> {
    const previous = this.active.get(userId);
    this.active.set(userId, sessionId);
    return previous;
  }
}
