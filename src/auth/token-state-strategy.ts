import type { SessionState } from '../accounts/account-store.js';
import { GatewayError } from '../errors/catalog.js';
import type { AuthEvent, AuthStrategy, Identity } from './auth-strategy.js';

/** Where session states are read (the auth service's account store). */
export interface SessionStateSource {
  sessionState(sessionId: string, now: number): Promise<SessionState | undefined>;
}

/** Most sessions remembered; past it the oldest entry goes (a Map keeps insertion order). */
const MAX_CACHED = 50_000;

/**
 * TOKEN_STATE_CHECK (seed 004's token table): after the inner strategy accepted a token, the session it
 * names must still be active in the auth service's store and its user not disabled — so a logged-out,
 * reuse-revoked or disabled user's access token stops working before it expires. Answers are cached for
 * TOKEN_STATE_CACHE_MS; revocations on any node evict them at once (`forget`).
 */
export class TokenStateStrategy implements AuthStrategy {
  readonly name: string;
  readonly acceptsMissingToken: boolean | undefined;
  private readonly cache = new Map<string, { readonly state: SessionState | undefined; readonly until: number }>();

  constructor(
    private readonly inner: AuthStrategy,
    private readonly source: SessionStateSource,
    private readonly cacheTtlMs: number,
  ) {
    this.name = inner.name;
    this.acceptsMissingToken = inner.acceptsMissingToken;
  }

  async authenticate(event: AuthEvent): Promise<Identity> {
    const identity = await this.inner.authenticate(event);
    if (identity.sessionId === undefined) throw new GatewayError('SESSION_REVOKED', 'The token names no session of the auth service');
    const state = await this.state(identity.sessionId);
    if (state === undefined || state.userId !== identity.userId) throw new GatewayError('SESSION_REVOKED', 'The token names no session of the auth service');
    if (state.userDisabled) throw new GatewayError('USER_DISABLED');
    if (!state.active) throw new GatewayError('SESSION_REVOKED', 'This session was logged out or revoked; log in again');
    return identity;
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
