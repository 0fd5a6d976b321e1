import type { SessionState } from '../stores/account-store.js';
import { GatewayError } from '../protocol/errors.js';
import type { Identity } from './auth-strategy.js';

/** Where session states are read (the auth service's account store). */
export interface SessionStateSource {
  sessionState(sessionId: string, now: number): Promise<SessionState | undefined>;
}

/** Most sessions remembered; past it the oldest entry goes (a Map keeps insertion order). */
const MAX_CACHED = 50_000;

/**
 * The token table: is the session an identity names still active in the auth service's store, and
 * its user not disabled? Answers are cached for a while; revocations evict them (`forget`) on every node.
 * A store that cannot answer is AUTH_UNAVAILABLE, never a pass.
 */
export class SessionStateCheck {
  private readonly cache = new Map<string, { readonly state: SessionState | undefined; readonly until: number }>();

  constructor(
    private readonly source: SessionStateSource,
    private readonly cacheTtlMs: number,
  ) {}

  /**
   * Refuses a revoked or expired session (SESSION_REVOKED) and a disabled user (USER_DISABLED). With
   * `requireKnown`, an identity naming no session of the store is refused too; without, it passes.
   */
  async assert(identity: Pick<Identity, 'userId' | 'sessionId'>, requireKnown: boolean): Promise<void> {
    const state = identity.sessionId === undefined ? undefined : await this.state(identity.sessionId);
    if (state === undefined || state.userId !== identity.userId) {
      if (requireKnown) throw new GatewayError('SESSION_REVOKED', 'The token names no session of the auth service');
      return;
    }
    if (state.userDisabled) throw new GatewayError('USER_DISABLED');
    if (!state.active) throw new GatewayError('SESSION_REVOKED', 'This session was logged out or revoked; log in again');
  }

  /** Evicts cached answers: some sessions, or all of them (a user was disabled). */
  forget(sessionIds?: readonly string[]): void {
    if (sessionIds === undefined) this.cache.clear();
    else for (const id of sessionIds) this.cache.delete(id);
  }

  private async state(sessionId: string): Promise<SessionState | undefined> {
    const now = Date.now();
    const cached = this.cache.get(sessionId);
    if (cached !== undefined && cached.until > now) return cached.state;
    let state: SessionState | undefined;
    try {
      state = await this.source.sessionState(sessionId, now);
    } catch {
      throw new GatewayError('AUTH_UNAVAILABLE', 'The session could not be checked right now; try again');
    }
    if (this.cacheTtlMs > 0) {
      this.cache.delete(sessionId);
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(sessionId, { state, until: now + this.cacheTtlMs });
    }
    return state;
  }
}
