import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserExistsError, type AccountStore, type NewSession, type SessionTokens } from '../src/stores/account-store.js';
import { PostgresAccountStore } from '../src/stores/postgres-account-store.js';
import { SqliteAccountStore } from '../src/stores/sqlite-account-store.js';
import { SqliteClientRegistry } from '../src/stores/sqlite-client-registry.js';
import { PG_URL, freshSchema, freshSchemaUrl } from './support/postgres.js';
import { freshDir, unique } from './support/temp.js';

/**
 * One contract, both account stores: SQLite in a temporary directory and PostgreSQL (trust auth on
 * localhost) in a schema of its own for this file, chosen through the URL's `search_path` option. The
 * stores keep their data across the tests of a backend, so every test names its own users and sessions.
 */
/** Any PHC string will do: the store never checks it. */
const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const NEW_HASH = '$argon2id$v=19$m=19456,t=2,p=1$b3RoZXJzYWx0b3RoZXJzYWx0$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
/** A fixed clock: every time in these tests is T plus something. */
const T = 1_700_000_000_000;

function tokens(generation: number, at: number, overrides: Partial<SessionTokens> = {}): SessionTokens {
  return {
    refreshGeneration: generation,
    refreshHash: unique(`refresh-hash-${generation}`),
    refreshIssuedAt: at,
    expiresAt: at + 30 * 86_400_000,
    accessJti: unique('jti'),
    accessIssuedAt: at,
    accessExpiresAt: at + 900_000,
    ...overrides,
  };
}

function newSession(userId: string, overrides: Partial<NewSession> = {}): NewSession {
  const createdAt = overrides.createdAt ?? T;
  return {
    id: unique('session'),
    userId,
    role: 'user',
    permissions: ['chat:write'],
    deviceId: 'device-1',
    createdAt,
    ...tokens(0, createdAt),
    ...overrides,
  };
}

/** Each backend: `prepare` runs once before its tests and returns how to open another store on the same data. */
const backends: { name: string; prepare: () => Promise<() => Promise<AccountStore>> }[] = [
  {
    name: 'SqliteAccountStore',
    prepare: async () => {
      const dir = freshDir('accounts');
      return async () => new SqliteAccountStore(dir);
    },
  },
  {
    name: 'PostgresAccountStore',
    prepare: async () => {
      const url = await freshSchemaUrl();
      return () => PostgresAccountStore.open(url);
    },
  },
];

describe.each(backends)('$name', ({ prepare }) => {
  let open: () => Promise<AccountStore>;
  let store: AccountStore;
  /** A second store on the same data: another node, or the CLI next to the gateway. */
  let other: AccountStore;

  beforeAll(async () => {
    open = await prepare();
    store = await open();
    other = await open();
  });
  afterAll(async () => {
    await store?.close();
    await other?.close();
  });

  async function addUser(username: string, role = 'user', permissions: string[] = []): Promise<void> {
    await store.addUser({ username, passwordHash: HASH, role, permissions }, T);
  }

  it('adds, finds and lists users, refusing a taken username', async () => {
    const prefix = unique('list');
    const bob = await store.addUser({ username: `${prefix}-bob`, passwordHash: HASH, role: 'editor', permissions: ['a', 'b'] }, T + 1);
    expect(bob).toStrictEqual({
      id: `${prefix}-bob`,
      username: `${prefix}-bob`,
      passwordHash: HASH,
      role: 'editor',
      permissions: ['a', 'b'],
      disabled: false,
      createdAt: T + 1,
    });
    await store.addUser({ username: `${prefix}-alice`, passwordHash: HASH, role: 'user', permissions: [] }, T + 2);

    expect(await store.findUser(`${prefix}-bob`)).toStrictEqual(bob);
    expect(await other.findUser(`${prefix}-bob`)).toStrictEqual(bob);
    expect(await store.findUser(`${prefix}-carol`)).toBeUndefined();
    const listed = (await store.listUsers()).filter((user) => user.username.startsWith(prefix));
    expect(listed.map((user) => [user.username, user.role, user.permissions, user.createdAt])).toEqual([
      [`${prefix}-alice`, 'user', [], T + 2],
      [`${prefix}-bob`, 'editor', ['a', 'b'], T + 1],
    ]);

    const again = store.addUser({ username: `${prefix}-bob`, passwordHash: NEW_HASH, role: 'admin', permissions: [] }, T + 3);
    await expect(again).rejects.toBeInstanceOf(UserExistsError);
    await expect(again).rejects.toMatchObject({ username: `${prefix}-bob` });
    expect((await store.findUser(`${prefix}-bob`))?.passwordHash).toBe(HASH);
  });

  it('lets exactly one of two simultaneous adds of the same username win', async () => {
    const username = unique('race');
    const results = await Promise.allSettled([
      store.addUser({ username, passwordHash: HASH, role: 'user', permissions: [] }, T),
      other.addUser({ username, passwordHash: NEW_HASH, role: 'user', permissions: [] }, T),
    ]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(UserExistsError);
  });

  it('changes a password, revoking the other sessions and recording an event', async () => {
    const username = unique('passwd');
    await addUser(username);
    const keep = newSession(username);
    const revoke = newSession(username, { deviceId: 'device-2' });
    const alreadyRevoked = newSession(username);
    for (const session of [keep, revoke, alreadyRevoked]) await store.createSession(session);
    await store.revokeSession(alreadyRevoked.id, 'logout', T + 50);
    const base = await store.latestEventId();

    expect(await store.changePassword(username, NEW_HASH, keep.id, T + 100)).toEqual([revoke.id]);
    expect((await store.findUser(username))?.passwordHash).toBe(NEW_HASH);
    expect(await store.findSession(revoke.id)).toMatchObject({ revokedAt: T + 100, revokeReason: 'password-changed' });
    expect(await store.findSession(keep.id)).toMatchObject({ revokedAt: undefined, revokeReason: undefined });
    expect(await store.findSession(alreadyRevoked.id)).toMatchObject({ revokedAt: T + 50, revokeReason: 'logout' });
    const events = await other.eventsAfter(base, 10);
    expect(events).toEqual([{ id: expect.any(Number), kind: 'sessions-revoked', userId: username, sessionIds: [revoke.id], at: T + 100 }]);
    expect(events[0]!.id).toBeGreaterThan(base);

    // Nothing left to revoke: no event.
    expect(await store.changePassword(username, HASH, keep.id, T + 200)).toEqual([]);
    expect(await store.latestEventId()).toBe(events[0]!.id);
    // No session kept: all of them go.
    expect(await store.changePassword(username, NEW_HASH, undefined, T + 300)).toEqual([keep.id]);
    expect(await store.eventsAfter(events[0]!.id, 10)).toMatchObject([{ kind: 'sessions-revoked', sessionIds: [keep.id] }]);

    expect(await store.changePassword(unique('nobody'), NEW_HASH, undefined, T)).toBeUndefined();
  });

  it('disables a user, revoking every session, and enables them again', async () => {
    const username = unique('disable');
    await addUser(username);
    const first = newSession(username);
    const second = newSession(username, { deviceId: '' });
    await store.createSession(first);
    await store.createSession(second);
    const base = await store.latestEventId();

    expect((await store.disableUser(username, T + 100))?.sort()).toEqual([first.id, second.id].sort());
    expect((await other.findUser(username))?.disabled).toBe(true);
    expect(await store.findSession(first.id)).toMatchObject({ revokedAt: T + 100, revokeReason: 'user-disabled' });
    expect(await store.findSession(second.id)).toMatchObject({ revokedAt: T + 100, revokeReason: 'user-disabled' });
    const [event, ...rest] = await store.eventsAfter(base, 10);
    expect(rest).toEqual([]);
    expect(event).toMatchObject({ kind: 'user-disabled', userId: username, at: T + 100 });
    expect([...event!.sessionIds].sort()).toEqual([first.id, second.id].sort());
    expect(await store.sessionState(first.id, T + 200)).toStrictEqual({ userId: username, active: false, userDisabled: true });

    expect(await store.enableUser(username)).toBe(true);
    expect((await store.findUser(username))?.disabled).toBe(false);
    expect(await store.sessionState(first.id, T + 200)).toStrictEqual({ userId: username, active: false, userDisabled: false });

    // A user without sessions still gets its event (nodes may hold sockets of theirs).
    const lonely = unique('lonely');
    await addUser(lonely);
    expect(await store.disableUser(lonely, T + 300)).toEqual([]);
    expect(await store.eventsAfter(event!.id, 10)).toMatchObject([{ kind: 'user-disabled', userId: lonely, sessionIds: [] }]);

    expect(await store.disableUser(unique('nobody'), T)).toBeUndefined();
    expect(await store.enableUser(unique('nobody'))).toBe(false);
  });

  it('round-trips a session, every field', async () => {
    const session = newSession(unique('roundtrip'), {
      role: 'editor',
      permissions: ['orders:read', 'chat.*'],
      deviceId: 'phone',
      createdAt: T + 7,
      refreshGeneration: 3,
      refreshHash: 'a'.repeat(64),
      refreshIssuedAt: T + 8,
      expiresAt: T + 30 * 86_400_000,
      accessJti: 'jti-roundtrip',
      accessIssuedAt: T + 9,
      accessExpiresAt: T + 900_000,
    });
    await store.createSession(session);
    expect(await other.findSession(session.id)).toStrictEqual({ ...session, revokedAt: undefined, revokeReason: undefined });
    expect(await store.findSession(unique('missing'))).toBeUndefined();

    const bare = newSession(unique('roundtrip'), { permissions: [], deviceId: '' });
    await store.createSession(bare);
    expect(await store.findSession(bare.id)).toStrictEqual({ ...bare, revokedAt: undefined, revokeReason: undefined });
  });

  it('rotates tokens as a compare-and-set', async () => {
    const session = newSession(unique('rotate'));
    await store.createSession(session);
    const next = tokens(1, T + 1000);
    expect(await store.rotateTokens(session.id, session.refreshHash, next)).toBe(true);
    expect(await store.findSession(session.id)).toStrictEqual({ ...session, ...next, revokedAt: undefined, revokeReason: undefined });

    // The old refresh token is spent.
    expect(await store.rotateTokens(session.id, session.refreshHash, tokens(2, T + 2000))).toBe(false);
    expect((await store.findSession(session.id))?.refreshHash).toBe(next.refreshHash);

    const afterNext = tokens(2, T + 3000);
    expect(await other.rotateTokens(session.id, next.refreshHash, afterNext)).toBe(true);
    await store.revokeSession(session.id, 'logout', T + 4000);
    expect(await store.rotateTokens(session.id, afterNext.refreshHash, tokens(3, T + 5000))).toBe(false);
    expect(await store.findSession(session.id)).toMatchObject({ refreshGeneration: 2, refreshHash: afterNext.refreshHash, revokedAt: T + 4000 });

    expect(await store.rotateTokens(unique('missing'), 'x', tokens(1, T))).toBe(false);
  });

  it('lets exactly one of two simultaneous rotations with the same hash win', async () => {
    for (let round = 0; round < 5; round += 1) {
      const session = newSession(unique('rotate-race'));
      await store.createSession(session);
      const mine = tokens(1, T + 1000);
      const theirs = tokens(1, T + 1000);
      const results = await Promise.all([
        store.rotateTokens(session.id, session.refreshHash, mine),
        other.rotateTokens(session.id, session.refreshHash, theirs),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results[0] ? mine : theirs;
      expect((await store.findSession(session.id))?.refreshHash).toBe(winner.refreshHash);
    }
  });

  it('finds the newest reusable session of a user on a device', async () => {
    const userId = unique('reuse');
    const access = { accessExpiresAt: T + 1000, expiresAt: T + 10_000 };
    const older = newSession(userId, { createdAt: T, ...access });
    const newer = newSession(userId, { createdAt: T + 10, ...access });
    const otherDevice = newSession(userId, { createdAt: T + 20, deviceId: 'device-2', ...access });
    const revoked = newSession(userId, { createdAt: T + 30, ...access });
    const noDevice = newSession(userId, { createdAt: T + 40, deviceId: '', ...access });
    for (const session of [older, newer, otherDevice, revoked, noDevice]) await store.createSession(session);
    await store.revokeSession(revoked.id, 'logout', T + 31);

    expect((await store.findReusableSession(userId, 'device-1', T + 500))?.id).toBe(newer.id);
    expect((await other.findReusableSession(userId, 'device-2', T + 500))?.id).toBe(otherDevice.id);
    expect((await store.findReusableSession(userId, '', T + 500))?.id).toBe(noDevice.id);
    // The access token must be valid strictly after `validAfter`.
    expect((await store.findReusableSession(userId, 'device-1', T + 999))?.id).toBe(newer.id);
    expect(await store.findReusableSession(userId, 'device-1', T + 1000)).toBeUndefined();
    expect(await store.findReusableSession(userId, 'device-3', T + 500)).toBeUndefined();
    expect(await store.findReusableSession(unique('reuse'), 'device-1', T + 500)).toBeUndefined();

    // A session whose refresh token expires first is not reusable either.
    const shortLived = unique('reuse');
    await store.createSession(newSession(shortLived, { accessExpiresAt: T + 5000, expiresAt: T + 2000 }));
    expect(await store.findReusableSession(shortLived, 'device-1', T + 1000)).toBeDefined();
    expect(await store.findReusableSession(shortLived, 'device-1', T + 2000)).toBeUndefined();

    // Revoking the newest falls back to the next one.
    await store.revokeSession(newer.id, 'logout', T + 100);
    expect((await store.findReusableSession(userId, 'device-1', T + 500))?.id).toBe(older.id);
  });

  it('revokes a session once', async () => {
    const session = newSession(unique('revoke'));
    await store.createSession(session);
    expect(await store.revokeSession(session.id, 'logout', T + 100)).toBe(true);
    expect(await other.revokeSession(session.id, 'reuse-detected', T + 200)).toBe(false);
    expect(await store.findSession(session.id)).toMatchObject({ revokedAt: T + 100, revokeReason: 'logout' });
    expect(await store.revokeSession(unique('missing'), 'logout', T)).toBe(false);
  });

  it('answers the state of a session', async () => {
    const username = unique('state');
    await addUser(username);
    const session = newSession(username, { expiresAt: T + 10_000 });
    await store.createSession(session);

    expect(await store.sessionState(unique('missing'), T)).toBeUndefined();
    expect(await store.sessionState(session.id, T + 9_999)).toStrictEqual({ userId: username, active: true, userDisabled: false });
    // Expired: `expires_at > now` no longer holds.
    expect(await store.sessionState(session.id, T + 10_000)).toStrictEqual({ userId: username, active: false, userDisabled: false });

    await store.revokeSession(session.id, 'logout', T + 100);
    expect(await other.sessionState(session.id, T + 200)).toStrictEqual({ userId: username, active: false, userDisabled: false });

    // The admin (and users verified by a backend) have no row in `users`: never disabled.
    const admin = newSession('admin', { role: 'admin', permissions: ['*'] });
    await store.createSession(admin);
    expect(await store.sessionState(admin.id, T + 1)).toStrictEqual({ userId: 'admin', active: true, userDisabled: false });
  });

  it('lists events in order, at most `limit`, from any id', async () => {
    const base = await store.latestEventId();
    const users = [unique('events'), unique('events'), unique('events')];
    for (const [index, username] of users.entries()) {
      await addUser(username);
      await store.disableUser(username, T + index);
    }

    const firstTwo = await other.eventsAfter(base, 2);
    expect(firstTwo.map((event) => [event.userId, event.at])).toEqual([
      [users[0], T],
      [users[1], T + 1],
    ]);
    expect(firstTwo[0]!.id).toBeGreaterThan(base);
    expect(firstTwo[1]!.id).toBeGreaterThan(firstTwo[0]!.id);
    const rest = await store.eventsAfter(firstTwo[1]!.id, 10);
    expect(rest.map((event) => event.userId)).toEqual([users[2]]);
    expect(await other.latestEventId()).toBe(rest[0]!.id);
    expect(await store.eventsAfter(rest[0]!.id, 10)).toEqual([]);
  });

  it('prunes old events and expired sessions', async () => {
    const base = await store.latestEventId();
    const [oldUser, newUser] = [unique('prune'), unique('prune')];
    await addUser(oldUser);
    await addUser(newUser);
    await store.disableUser(oldUser, T + 50);
    await store.disableUser(newUser, T + 5000);
    const expired = newSession(unique('prune'), { expiresAt: T + 100 });
    const live = newSession(unique('prune'), { expiresAt: T + 10_000 });
    await store.createSession(expired);
    await store.createSession(live);
    const latest = await store.latestEventId();

    await store.prune(T + 1000);
    expect(await store.findSession(expired.id)).toBeUndefined();
    expect(await store.findSession(live.id)).toBeDefined();
    expect((await store.eventsAfter(base, 10)).map((event) => event.userId)).toEqual([newUser]);
    // Users are never pruned; event ids keep growing.
    expect(await store.findUser(oldUser)).toBeDefined();
    expect(await store.latestEventId()).toBe(latest);
  });
});

describe('PostgresAccountStore.open', () => {
  it('creates its tables in the URL’s search_path, even when several nodes start at once', async () => {
    const { url, schema } = await freshSchema();
    const stores = await Promise.all([PostgresAccountStore.open(url), PostgresAccountStore.open(url), PostgresAccountStore.open(url)]);
    try {
      const client = new pg.Client(PG_URL);
      await client.connect();
      try {
        const { rows } = await client.query<{ table_name: string }>(
          'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
          [schema],
        );
        expect(rows.map((row) => row.table_name)).toEqual(['account_events', 'auth_sessions', 'users']);
      } finally {
        await client.end();
      }
      await stores[0]!.addUser({ username: 'shared', passwordHash: HASH, role: 'user', permissions: [] }, T);
      expect((await stores[2]!.findUser('shared'))?.createdAt).toBe(T);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('rejects when the database cannot be reached', async () => {
    await expect(PostgresAccountStore.open('postgres://postgres@127.0.0.1:1/test')).rejects.toThrow();
  });
});

describe('SqliteAccountStore on a shared file', () => {
  it('lets two instances (the CLI and a running gateway) see each other’s writes', async () => {
    const dir = freshDir('accounts');
    const gateway = new SqliteAccountStore(dir);
    const cli = new SqliteAccountStore(dir);
    // The client registry lives in the same file, in its own table.
    const registry = new SqliteClientRegistry(dir);
    try {
      await cli.addUser({ username: 'alice', passwordHash: HASH, role: 'user', permissions: ['a'] }, T);
      expect((await gateway.findUser('alice'))?.permissions).toEqual(['a']);

      const session = newSession('alice');
      await gateway.createSession(session);
      expect(await cli.disableUser('alice', T + 100)).toEqual([session.id]);
      expect(await gateway.sessionState(session.id, T + 200)).toStrictEqual({ userId: 'alice', active: false, userDisabled: true });
      expect(await gateway.eventsAfter(0, 10)).toMatchObject([{ kind: 'user-disabled', userId: 'alice', sessionIds: [session.id] }]);

      await registry.put({ clientId: 'client-1', name: undefined, subscriptions: ['completed'] });
      expect(await registry.get('client-1')).toMatchObject({ subscriptions: ['completed'] });
      expect(await gateway.listUsers()).toHaveLength(1);
    } finally {
      await gateway.close();
      await cli.close();
      await registry.close();
    }
  });
});
