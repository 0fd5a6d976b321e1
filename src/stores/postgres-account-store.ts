import pg from 'pg';
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
import { sessionParams, tokenParams, toSession, toSessionState, toUser, type SessionRow, type SessionStateRow, type UserRow } from './account-rows.js';

/** How long getting a connection and running one query may take. */
const CONNECT_TIMEOUT_MS = 3000;
const QUERY_TIMEOUT_MS = 5000;

/** pg returns BIGINT as a string (it may exceed 2^53); our values are Unix ms and event ids, well below. */
type BigIntText = string;

interface EventRow {
  readonly id: BigIntText;
  readonly kind: AccountEvent['kind'];
  readonly user_id: string;
  readonly session_ids: string[];
  readonly at: BigIntText;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  permissions JSONB NOT NULL,
  disabled BOOLEAN NOT NULL DEFAULT FALSE,
  created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL,
  permissions JSONB NOT NULL,
  device_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  refresh_generation INTEGER NOT NULL,
  refresh_hash TEXT NOT NULL,
  refresh_issued_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  access_jti TEXT NOT NULL,
  access_issued_at BIGINT NOT NULL,
  access_expires_at BIGINT NOT NULL,
  revoked_at BIGINT,
  revoke_reason TEXT
);
CREATE INDEX IF NOT EXISTS auth_sessions_user_device ON auth_sessions (user_id, device_id);
CREATE INDEX IF NOT EXISTS auth_sessions_expires_at ON auth_sessions (expires_at);
CREATE TABLE IF NOT EXISTS account_events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind TEXT NOT NULL,
  user_id TEXT NOT NULL,
  session_ids JSONB NOT NULL,
  at BIGINT NOT NULL
);`;

const SESSION_COLUMNS = `id, user_id, role, permissions, device_id, created_at, refresh_generation, refresh_hash,
  refresh_issued_at, expires_at, access_jti, access_issued_at, access_expires_at, revoked_at, revoke_reason`;

/** Revokes a user's sessions except `$4` (none when null), returning their ids. */
const REVOKE_USER_SESSIONS = `UPDATE auth_sessions SET revoked_at = $1, revoke_reason = $2
  WHERE user_id = $3 AND revoked_at IS NULL AND id IS DISTINCT FROM $4::text RETURNING id`;

/**
 * Appends an account event. The EXCLUSIVE lock (readers still read) makes writers take ids and commit in
 * the same order: without it a poller could see event 6 committed before event 5 and skip 5 for good.
 */
async function insertEvent(client: pg.PoolClient, kind: AccountEvent['kind'], userId: string, sessionIds: string[], at: number): Promise<void> {
  await client.query('LOCK TABLE account_events IN EXCLUSIVE MODE');
  await client.query('INSERT INTO account_events (kind, user_id, session_ids, at) VALUES ($1, $2, $3::jsonb, $4)', [
    kind,
    userId,
    JSON.stringify(sessionIds),
    at,
  ]);
}

/**
 * The account store shared by several nodes, in PostgreSQL at DATABASE_URL (a pool of at most 10
 * connections). Tables live in the connection's `search_path` (e.g. `?options=-c%20search_path%3Dauth`).
 * Open it with {@link PostgresAccountStore.open}, which creates the tables under an advisory lock so nodes
 * starting together do not race. Multi-step changes run in one transaction on a dedicated connection;
 * refresh rotation is a single conditional UPDATE, so two nodes refreshing the same session at once cannot
 * both win.
 */
export class PostgresAccountStore implements AccountStore {
  readonly name = 'postgres';

  private constructor(private readonly pool: pg.Pool) {}

  /** Connects to `url`, creates the tables when missing and returns the store; rejects when the database cannot be reached. */
  static async open(url: string): Promise<PostgresAccountStore> {
    // Bounded waits: a database that is down or stops answering fails a request (503) instead of hanging it.
    const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, query_timeout: QUERY_TIMEOUT_MS });
    // An idle connection that dies (server restart) is dropped by the pool and the next query reconnects or
    // fails on its own; without a listener the 'error' event would crash the process.
    pool.on('error', () => {});
    const store = new PostgresAccountStore(pool);
    try {
      await store.transaction(async (client) => {
        await client.query("SELECT pg_advisory_xact_lock(hashtext('switchboard:account-store-schema'))");
        await client.query(SCHEMA);
      });
    } catch (error) {
      await pool.end();
      throw error;
    }
    return store;
  }

  async addUser(user: NewUser, at: number): Promise<UserRecord> {
    const permissions = [...user.permissions];
    try {
      await this.pool.query(
        'INSERT INTO users (username, password_hash, role, permissions, disabled, created_at) VALUES ($1, $2, $3, $4::jsonb, FALSE, $5)',
        [user.username, user.passwordHash, user.role, JSON.stringify(permissions), at],
      );
    } catch (error) {
      if (error instanceof pg.DatabaseError && error.code === '23505') throw new UserExistsError(user.username);
      throw error;
    }
    return { id: user.username, username: user.username, passwordHash: user.passwordHash, role: user.role, permissions, disabled: false, createdAt: at };
  }

  async findUser(username: string): Promise<UserRecord | undefined> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
    return rows[0] === undefined ? undefined : toUser(rows[0]);
  }

  async listUsers(): Promise<UserRecord[]> {
    // COLLATE "C": byte order, as SQLite answers, whatever collation the database has.
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users ORDER BY username COLLATE "C"');
    return rows.map(toUser);
  }

  async changePassword(username: string, passwordHash: string, keepSessionId: string | undefined, at: number): Promise<string[] | undefined> {
    return this.transaction(async (client) => {
      const updated = await client.query('UPDATE users SET password_hash = $1 WHERE username = $2', [passwordHash, username]);
      if (updated.rowCount === 0) return undefined;
      const revoked = await client.query<{ id: string }>(REVOKE_USER_SESSIONS, [at, 'password-changed', username, keepSessionId ?? null]);
      const ids = revoked.rows.map((row) => row.id);
      if (ids.length > 0) await insertEvent(client, 'sessions-revoked', username, ids, at);
      return ids;
    });
  }

  async disableUser(username: string, at: number): Promise<string[] | undefined> {
    return this.transaction(async (client) => {
      const updated = await client.query('UPDATE users SET disabled = TRUE WHERE username = $1', [username]);
      if (updated.rowCount === 0) return undefined;
      const revoked = await client.query<{ id: string }>(REVOKE_USER_SESSIONS, [at, 'user-disabled', username, null]);
      const ids = revoked.rows.map((row) => row.id);
      await insertEvent(client, 'user-disabled', username, ids, at);
      return ids;
    });
  }

  async enableUser(username: string): Promise<boolean> {
    const result = await this.pool.query('UPDATE users SET disabled = FALSE WHERE username = $1', [username]);
    return (result.rowCount ?? 0) > 0;
  }

  async createSession(session: NewSession): Promise<void> {
    await this.pool.query(
      `INSERT INTO auth_sessions (${SESSION_COLUMNS})
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, NULL)`,
      sessionParams(session),
    );
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.pool.query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM auth_sessions WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : toSession(rows[0]);
  }

  async findReusableSession(userId: string, deviceId: string, validAfter: number): Promise<SessionRecord | undefined> {
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM auth_sessions
       WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL AND access_expires_at > $3 AND expires_at > $3
       ORDER BY created_at DESC, access_expires_at DESC LIMIT 1`,
      [userId, deviceId, validAfter],
    );
    return rows[0] === undefined ? undefined : toSession(rows[0]);
  }

  async rotateTokens(id: string, expectedHash: string, next: SessionTokens): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE auth_sessions SET refresh_generation = $1, refresh_hash = $2, refresh_issued_at = $3, expires_at = $4,
         access_jti = $5, access_issued_at = $6, access_expires_at = $7
       WHERE id = $8 AND refresh_hash = $9 AND revoked_at IS NULL`,
      [...tokenParams(next), id, expectedHash],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async revokeSession(id: string, reason: string, at: number): Promise<boolean> {
    const result = await this.pool.query(
      'UPDATE auth_sessions SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL',
      [at, reason, id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async sessionState(id: string, now: number): Promise<SessionState | undefined> {
    const { rows } = await this.pool.query<SessionStateRow>(
      `SELECT s.user_id, s.revoked_at, s.expires_at, u.disabled FROM auth_sessions s
       LEFT JOIN users u ON u.username = s.user_id WHERE s.id = $1`,
      [id],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return toSessionState(row, now);
  }

  async eventsAfter(afterId: number, limit: number): Promise<AccountEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      'SELECT id, kind, user_id, session_ids, at FROM account_events WHERE id > $1 ORDER BY id LIMIT $2',
      [afterId, limit],
    );
    return rows.map((row) => ({ id: Number(row.id), kind: row.kind, userId: row.user_id, sessionIds: row.session_ids, at: Number(row.at) }));
  }

  async latestEventId(): Promise<number> {
    const { rows } = await this.pool.query<{ id: BigIntText }>('SELECT COALESCE(MAX(id), 0) AS id FROM account_events');
    return Number(rows[0]?.id ?? 0);
  }

  async prune(before: number): Promise<void> {
    await this.pool.query('DELETE FROM account_events WHERE at < $1', [before]);
    await this.pool.query('DELETE FROM auth_sessions WHERE expires_at < $1', [before]);
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }

  /** Runs `work` between BEGIN and COMMIT on one connection (ROLLBACK when it throws), then gives the connection back. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection that cannot even roll back is destroyed rather than returned to the pool.
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}



