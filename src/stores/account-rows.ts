import type { NewSession, SessionRecord, SessionState, SessionTokens, UserRecord } from './account-store.js';

/**
 * The rows both account stores read, and their mapping to records, written once. The drivers differ in
 * types only: SQLite answers JSON columns as text, booleans as 0/1 and times as numbers; PostgreSQL
 * answers JSONB as arrays, BOOLEAN as booleans and BIGINT as text.
 */
type Time = number | string;
type JsonList = string | readonly string[];

export interface UserRow {
  readonly username: string;
  readonly password_hash: string;
  readonly role: string;
  readonly permissions: JsonList;
  readonly disabled: boolean | number;
  readonly created_at: Time;
}

/** One row of `auth_sessions`; `revoked_at` null until revoked. */
export interface SessionRow {
  readonly id: string;
  readonly user_id: string;
  readonly role: string;
  readonly permissions: JsonList;
  readonly device_id: string;
  readonly created_at: Time;
  readonly refresh_generation: number;
  readonly refresh_hash: string;
  readonly refresh_issued_at: Time;
  readonly expires_at: Time;
  readonly access_jti: string;
  readonly access_issued_at: Time;
  readonly access_expires_at: Time;
  readonly revoked_at: Time | null;
  readonly revoke_reason: string | null;
}

/** A session joined with its user (null when the user is not in the store: the admin, VERIFY_USER_URL users). */
export interface SessionStateRow {
  readonly user_id: string;
  readonly revoked_at: Time | null;
  readonly expires_at: Time;
  readonly disabled: boolean | number | null;
}

/** The tokens of {@link SessionTokens} in the column order both INSERT and UPDATE list them. */
export type TokenParams = [number, string, number, number, string, number, number];

export function tokenParams(tokens: SessionTokens): TokenParams {
  return [
    tokens.refreshGeneration,
    tokens.refreshHash,
    tokens.refreshIssuedAt,
    tokens.expiresAt,
    tokens.accessJti,
    tokens.accessIssuedAt,
    tokens.accessExpiresAt,
  ];
}

export function toUser(row: UserRow): UserRecord {
  return {
    id: row.username,
    username: row.username,
    passwordHash: row.password_hash,
    role: row.role,
    permissions: jsonList(row.permissions),
    disabled: row.disabled === true || row.disabled === 1,
    createdAt: Number(row.created_at),
  };
}

export function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    role: row.role,
    permissions: jsonList(row.permissions),
    deviceId: row.device_id,
    createdAt: Number(row.created_at),
    refreshGeneration: row.refresh_generation,
    refreshHash: row.refresh_hash,
    refreshIssuedAt: Number(row.refresh_issued_at),
    expiresAt: Number(row.expires_at),
    accessJti: row.access_jti,
    accessIssuedAt: Number(row.access_issued_at),
    accessExpiresAt: Number(row.access_expires_at),
    revokedAt: row.revoked_at === null ? undefined : Number(row.revoked_at),
    revokeReason: row.revoke_reason ?? undefined,
  };
}

export function toSessionState(row: SessionStateRow, now: number): SessionState {
  return { userId: row.user_id, active: row.revoked_at === null && Number(row.expires_at) > now, userDisabled: row.disabled === true || row.disabled === 1 };
}

export function jsonList(value: JsonList): string[] {
  return typeof value === 'string' ? (JSON.parse(value) as string[]) : [...value];
}

/** The parameters of a session INSERT, in column order (permissions as JSON text; revocation columns left out). */
export function sessionParams(session: NewSession): [string, string, string, string, string, number, ...TokenParams] {
  return [session.id, session.userId, session.role, JSON.stringify(session.permissions), session.deviceId, session.createdAt, ...tokenParams(session)];
}
