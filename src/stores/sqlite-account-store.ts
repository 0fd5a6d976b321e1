import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  UserExistsError,
  type AccountEvent,
  type AccountStore,
  type NewSession,
  type NewUser,
  type SessionRecord,
  type SessionState,
  type SessionTokens,
  type UserRecord,
} from './account-store.js';
import { jsonList, sessionParams, tokenParams, toSession, toSessionState, toUser, type SessionRow, type SessionStateRow, type TokenParams, type UserRow } from './account-rows.js';

/** One row of `account_events`; `session_ids` is a JSON array. */
interface EventRow {
  readonly id: number;
  readonly kind: AccountEvent['kind'];
  readonly user_id: string;
  readonly session_ids: string;
  readonly at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  permissions TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL,
  permissions TEXT NOT NULL,
  device_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  refresh_generation INTEGER NOT NULL,
  refresh_hash TEXT NOT NULL,
  refresh_issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  access_jti TEXT NOT NULL,
  access_issued_at INTEGER NOT NULL,
  access_expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  revoke_reason TEXT
);
CREATE INDEX IF NOT EXISTS auth_sessions_user_device ON auth_sessions (user_id, device_id);
CREATE INDEX IF NOT EXISTS auth_sessions_expires_at ON auth_sessions (expires_at);
CREATE TABLE IF NOT EXISTS account_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  user_id TEXT NOT NULL,
  session_ids TEXT NOT NULL,
  at INTEGER NOT NULL
);`;

const SESSION_COLUMNS = `id, user_id, role, permissions, device_id, created_at, refresh_generation, refresh_hash,
  refresh_issued_at, expires_at, access_jti, access_issued_at, access_expires_at, revoked_at, revoke_reason`;

/**
 * The account store of one node, in SQLite at `{dataDir}/switchboard.sqlite` (the client registry's file,
 * its own tables), WAL mode with a 5 s busy timeout so `npm run users` and a running gateway can share the
 * file: each sees the other's committed writes on its next query. Not shared between machines — several
 * nodes need {@link PostgresAccountStore}. Every call is synchronous underneath; the multi-step changes
 * (changePassword, disableUser) run in one IMMEDIATE transaction, which takes the write lock before reading.
 */
export class SqliteAccountStore implements AccountStore {
  readonly name = 'sqlite';
  private readonly db: Database.Database;
  private readonly insertUser: Database.Statement<[string, string, string, string, number]>;
  private readonly selectUser: Database.Statement<[string], UserRow>;
  private readonly selectUsers: Database.Statement<[], UserRow>;
  private readonly updatePassword: Database.Statement<[string, string]>;
  private readonly updateDisabled: Database.Statement<[number, string]>;
  private readonly revokeUserSessions: Database.Statement<[number, string, string, string | null], { id: string }>;
  private readonly insertEvent: Database.Statement<[string, string, string, number]>;
  private readonly insertSession: Database.Statement<
    [string, string, string, string, string, number, number, string, number, number, string, number, number]
  >;
  private readonly selectSession: Database.Statement<[string], SessionRow>;
  private readonly selectReusable: Database.Statement<[string, string, number, number], SessionRow>;
  private readonly updateTokens: Database.Statement<[...TokenParams, string, string]>;
  private readonly updateRevoked: Database.Statement<[number, string, string]>;
  private readonly selectState: Database.Statement<[string], SessionStateRow>;
  private readonly selectEvents: Database.Statement<[number, number], EventRow>;
  private readonly selectLatestEvent: Database.Statement<[], { id: number }>;
  private readonly deleteEvents: Database.Statement<[number]>;
  private readonly deleteSessions: Database.Statement<[number]>;
  private readonly changePasswordTx: (username: string, hash: string, keep: string | undefined, at: number) => string[] | undefined;
  private readonly disableUserTx: (username: string, at: number) => string[] | undefined;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'switchboard.sqlite'), { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);

    this.insertUser = this.db.prepare(
      `INSERT INTO users (username, password_hash, role, permissions, disabled, created_at) VALUES (?, ?, ?, ?, 0, ?)
       ON CONFLICT (username) DO NOTHING`,
    );
    this.selectUser = this.db.prepare('SELECT * FROM users WHERE username = ?');
    this.selectUsers = this.db.prepare('SELECT * FROM users ORDER BY username');
    this.updatePassword = this.db.prepare('UPDATE users SET password_hash = ? WHERE username = ?');
    this.updateDisabled = this.db.prepare('UPDATE users SET disabled = ? WHERE username = ?');
    // `id IS NOT NULL` holds for every row, so a null session to keep revokes them all.
    this.revokeUserSessions = this.db.prepare(
      `UPDATE auth_sessions SET revoked_at = ?, revoke_reason = ?
       WHERE user_id = ? AND revoked_at IS NULL AND id IS NOT ? RETURNING id`,
    );
    this.insertEvent = this.db.prepare('INSERT INTO account_events (kind, user_id, session_ids, at) VALUES (?, ?, ?, ?)');
    this.insertSession = this.db.prepare(`INSERT INTO auth_sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`);
    this.selectSession = this.db.prepare(`SELECT ${SESSION_COLUMNS} FROM auth_sessions WHERE id = ?`);
    this.selectReusable = this.db.prepare(
      `SELECT ${SESSION_COLUMNS} FROM auth_sessions
       WHERE user_id = ? AND device_id = ? AND revoked_at IS NULL AND access_expires_at > ? AND expires_at > ?
       ORDER BY created_at DESC, access_expires_at DESC LIMIT 1`,
    );
    this.updateTokens = this.db.prepare(
      `UPDATE auth_sessions SET refresh_generation = ?, refresh_hash = ?, refresh_issued_at = ?, expires_at = ?,
         access_jti = ?, access_issued_at = ?, access_expires_at = ?
       WHERE id = ? AND refresh_hash = ? AND revoked_at IS NULL`,
    );
    this.updateRevoked = this.db.prepare('UPDATE auth_sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL');
    this.selectState = this.db.prepare(
      `SELECT s.user_id, s.revoked_at, s.expires_at, u.disabled FROM auth_sessions s
       LEFT JOIN users u ON u.username = s.user_id WHERE s.id = ?`,
    );
    this.selectEvents = this.db.prepare('SELECT id, kind, user_id, session_ids, at FROM account_events WHERE id > ? ORDER BY id LIMIT ?');
    this.selectLatestEvent = this.db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM account_events');
    this.deleteEvents = this.db.prepare('DELETE FROM account_events WHERE at < ?');
    this.deleteSessions = this.db.prepare('DELETE FROM auth_sessions WHERE expires_at < ?');

    const changePassword = this.db.transaction((username: string, hash: string, keep: string | undefined, at: number) => {
      if (this.updatePassword.run(hash, username).changes === 0) return undefined;
      const ids = this.revokeUserSessions.all(at, 'password-changed', username, keep ?? null).map((row) => row.id);
      if (ids.length > 0) this.insertEvent.run('sessions-revoked', username, JSON.stringify(ids), at);
      return ids;
    });
    this.changePasswordTx = (username, hash, keep, at) => changePassword.immediate(username, hash, keep, at);
    const disableUser = this.db.transaction((username: string, at: number) => {
      if (this.updateDisabled.run(1, username).changes === 0) return undefined;
      const ids = this.revokeUserSessions.all(at, 'user-disabled', username, null).map((row) => row.id);
      this.insertEvent.run('user-disabled', username, JSON.stringify(ids), at);
      return ids;
    });
    this.disableUserTx = (username, at) => disableUser.immediate(username, at);
  }

  async addUser(user: NewUser, at: number): Promise<UserRecord> {
    const permissions = [...user.permissions];
    const result = this.insertUser.run(user.username, user.passwordHash, user.role, JSON.stringify(permissions), at);
    if (result.changes === 0) throw new UserExistsError(user.username);
    return { id: user.username, username: user.username, passwordHash: user.passwordHash, role: user.role, permissions, disabled: false, createdAt: at };
  }

  async findUser(username: string): Promise<UserRecord | undefined> {
    const row = this.selectUser.get(username);
    return row === undefined ? undefined : toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    return this.selectUsers.all().map(toUser);
  }

  async changePassword(username: string, passwordHash: string, keepSessionId: string | undefined, at: number): Promise<string[] | undefined> {
    return this.changePasswordTx(username, passwordHash, keepSessionId, at);
  }

  async disableUser(username: string, at: number): Promise<string[] | undefined> {
    return this.disableUserTx(username, at);
  }

  async enableUser(username: string): Promise<boolean> {
    return this.updateDisabled.run(0, username).changes > 0;
  }

  async createSession(session: NewSession): Promise<void> {
    this.insertSession.run(...sessionParams(session));
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.selectSession.get(id);
    return row === undefined ? undefined : toSession(row);
  }

  async findReusableSession(userId: string, deviceId: string, validAfter: number): Promise<SessionRecord | undefined> {
    const row = this.selectReusable.get(userId, deviceId, validAfter, validAfter);
    return row === undefined ? undefined : toSession(row);
  }

  async rotateTokens(id: string, expectedHash: string, next: SessionTokens): Promise<boolean> {
    return this.updateTokens.run(...tokenParams(next), id, expectedHash).changes > 0;
  }

  async revokeSession(id: string, reason: string, at: number): Promise<boolean> {
    return this.updateRevoked.run(at, reason, id).changes > 0;
  }

  async sessionState(id: string, now: number): Promise<SessionState | undefined> {
    const row = this.selectState.get(id);
    if (row === undefined) return undefined;
    return toSessionState(row, now);
  }

  async eventsAfter(afterId: number, limit: number): Promise<AccountEvent[]> {
    return this.selectEvents.all(afterId, limit).map((row) => ({
      id: row.id,
      kind: row.kind,
      userId: row.user_id,
      sessionIds: jsonList(row.session_ids),
      at: row.at,
    }));
  }

  async latestEventId(): Promise<number> {
    return this.selectLatestEvent.get()?.id ?? 0;
  }

  async prune(before: number): Promise<void> {
    this.deleteEvents.run(before);
    this.deleteSessions.run(before);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}



