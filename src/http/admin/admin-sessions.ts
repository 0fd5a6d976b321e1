import { randomBytes } from 'node:crypto';
import type { CredentialHolder } from '../credential-guard.js';

/** One signed-in dashboard: who signed in (an API key, or a token with its permissions) and until when. */
export interface AdminSession {
  /** The opaque id the cookie carries: 32 random bytes, base64url. */
  readonly id: string;
  readonly holder: CredentialHolder;
  /** Unix milliseconds. */
  readonly expiresAt: number;
}

/**
 * Told of every session opened and forgotten (signed out, replaced or expired). With WORKERS, the worker
 * holding a session asks the primary to send it every request that carries the session's cookie.
 */
export interface SessionPins {
  pin(sessionId: string): void;
  unpin(sessionId: string): void;
}

/**
 * The admin dashboard's sessions, in this node's memory: an opaque random id (the cookie's value) maps to
 * the credential holder who signed in, until a fixed expiry — `ttlMs` after signing in, never past the
 * signing-in token's own `exp`. Nothing of the credential itself is kept. Per node: a restart signs every
 * dashboard out, and another node behind a load balancer does not know the session (docs/admin.md).
 */
export class AdminSessions {
  private readonly sessions = new Map<string, AdminSession>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly pins?: SessionPins,
  ) {}

  /** Opens a session for `holder`; expired sessions are forgotten on the way. */
  open(holder: CredentialHolder): AdminSession {
    this.sweep();
    const now = this.now();
    const tokenExpiry = holder.via === 'token' ? holder.expiresAt : undefined;
    const session = { id: randomBytes(32).toString('base64url'), holder, expiresAt: Math.min(now + this.ttlMs, tokenExpiry ?? Infinity) };
    this.sessions.set(session.id, session);
    this.pins?.pin(session.id);
    return session;
  }

  /** The live session of this id; `undefined` for an unknown, closed or expired one. */
  get(id: string | undefined): AdminSession | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAt > this.now()) return session;
    this.forget(id);
    return undefined;
  }

  /** Signs a session out (nothing happens for an unknown id). */
  close(id: string): void {
    this.forget(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.forget(id);
  }

  private forget(id: string): void {
    if (this.sessions.delete(id)) this.pins?.unpin(id);
  }
}
