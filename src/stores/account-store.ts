/**
 * Where the built-in auth service keeps what must persist: users (with argon2id hashes), login sessions
 * (with the hash of their current refresh token) and a small feed of account events that every node
 * polls. Two implementations side by side: SQLite under DATA_DIR (one node, the default) and PostgreSQL
 * at DATABASE_URL (shared by several nodes). Times are Unix milliseconds.
 */

/** A user of the built-in store. Its id is its username (what backends target: `users: ["alice"]`). */
export interface UserRecord {
  readonly id: string;
  readonly username: string;
  /** PHC string (`$argon2id$…`); never logged, never returned over HTTP. */
  readonly passwordHash: string;
  readonly role: string;
  readonly permissions: readonly string[];
  readonly disabled: boolean;
  readonly createdAt: number;
}

export interface NewUser {
  readonly username: string;
  readonly passwordHash: string;
  readonly role: string;
  readonly permissions: readonly string[];
}

/** The tokens a session currently holds (what a refresh replaces). */
export interface SessionTokens {
  /** Counts refreshes; a refresh token names its generation, older generations are spent. */
  readonly refreshGeneration: number;
  /** SHA-256 (hex) of the current refresh token; the token itself is never stored. */
  readonly refreshHash: string;
  readonly refreshIssuedAt: number;
  /** When the current refresh token expires (sliding: each refresh moves it). */
  readonly expiresAt: number;
  readonly accessJti: string;
  readonly accessIssuedAt: number;
  readonly accessExpiresAt: number;
}

/** One login: a user (or the admin) on one device, from login until logout, reuse or expiry. */
export interface SessionRecord extends SessionTokens {
  readonly id: string;
  readonly userId: string;
  readonly role: string;
  readonly permissions: readonly string[];
  /** The `deviceId` given at login; `''` when none. */
  readonly deviceId: string;
  readonly createdAt: number;
  /** Set once revoked (logout, reuse detected, password changed, user disabled); never cleared. */
  readonly revokedAt: number | undefined;
  readonly revokeReason: string | undefined;
}

export type NewSession = Omit<SessionRecord, 'revokedAt' | 'revokeReason'>;

/** What the gateway's TOKEN_STATE_CHECK asks about the session an access token names. */
export interface SessionState {
  readonly userId: string;
  /** Not revoked and its refresh token not expired. */
  readonly active: boolean;
  /** The session's user is in the store and disabled (users from VERIFY_USER_URL never are). */
  readonly userDisabled: boolean;
}

/** A change every node must act on (it disconnects its own sockets of that user or those sessions). */
export interface AccountEvent {
  readonly id: number;
  readonly kind: 'user-disabled' | 'sessions-revoked';
  readonly userId: string;
  readonly sessionIds: readonly string[];
  readonly at: number;
}

/** Thrown by `addUser` when the username is taken. */
export class UserExistsError extends Error {
  constructor(readonly username: string) {
    super(`A user named "${username}" already exists`);
    this.name = 'UserExistsError';
  }
}

export interface AccountStore {
  /** `sqlite` or `postgres`, for logs and /readyz. */
  readonly name: string;

  // --- users ---
  /** Adds a user; rejects with {@link UserExistsError} when the username is taken. */
  addUser(user: NewUser, at: number): Promise<UserRecord>;
  findUser(username: string): Promise<UserRecord | undefined>;
  /** Every user, ordered by username. */
  listUsers(): Promise<UserRecord[]>;
  /**
   * Sets a new password hash and revokes the user's other sessions (all of them when `keepSessionId` is
   * undefined) in one transaction, recording a `sessions-revoked` event when any were. Returns their ids;
   * `undefined` when there is no such user.
   */
  changePassword(username: string, passwordHash: string, keepSessionId: string | undefined, at: number): Promise<string[] | undefined>;
  /**
   * Disables the user, revokes every session of theirs and records a `user-disabled` event, in one
   * transaction. Returns the revoked session ids; `undefined` when there is no such user.
   */
  disableUser(username: string, at: number): Promise<string[] | undefined>;
  /** Enables the user again (their revoked sessions stay revoked). False when there is no such user. */
  enableUser(username: string): Promise<boolean>;

  // --- sessions ---
  createSession(session: NewSession): Promise<void>;
  findSession(id: string): Promise<SessionRecord | undefined>;
  /**
   * The newest session of `userId` on `deviceId` that is not revoked and whose access token is valid
   * past `validAfter` (REUSE_ACCESS_TOKEN), or `undefined`.
   */
  findReusableSession(userId: string, deviceId: string, validAfter: number): Promise<SessionRecord | undefined>;
  /**
   * Refresh rotation, as a compare-and-set: replaces the session's tokens with `next` only if it is not
   * revoked and its current refresh hash is still `expectedHash`. False otherwise (spent or revoked).
   */
  rotateTokens(id: string, expectedHash: string, next: SessionTokens): Promise<boolean>;
  /** Revokes one session; true when it was not revoked before. */
  revokeSession(id: string, reason: string, at: number): Promise<boolean>;
  /** Revoked, expired or unknown (`undefined`) sessions are refused by TOKEN_STATE_CHECK. */
  sessionState(id: string, now: number): Promise<SessionState | undefined>;

  // --- events every node polls ---
  /** Events with an id above `afterId`, oldest first, at most `limit`. */
  eventsAfter(afterId: number, limit: number): Promise<AccountEvent[]>;
  /** The newest event id (0 when none): where a node that just started begins polling. */
  latestEventId(): Promise<number>;
  /** Deletes events and sessions that can no longer matter (events older than `before`, sessions expired before it). */
  prune(before: number): Promise<void>;

  close(): Promise<void>;
}
