import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PostgresAccountStore } from '../src/stores/postgres-account-store.js';
import { ACCESS_KEY, ALICE, addUser, login, loginOk, logout, refresh, startAuthGateway, type AuthGateway } from './support/auth.js';
import { onCleanup } from './support/cleanup.js';
import { api, connectClient, disconnectReason, expectConnectError, expectRetryClose, nextEvent } from './support/gateway.js';
import { freshSchemaUrl } from './support/postgres.js';
import { startRedis, type TestRedis } from './support/redis.js';
import { unique } from './support/temp.js';

/**
 * Two gateway nodes sharing a redis-server (Redis engine) and PostgreSQL (DATABASE_URL): a login on one
 * node works on the other, and logout, password change, disabling a user and the login throttle reach
 * both — the seed's "all servers share the same key".
 */
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis({ cleanup: 'manual' });
});
afterAll(async () => {
  await redis.kill();
});

let a: AuthGateway;
let b: AuthGateway;
let store: PostgresAccountStore;
let databaseUrl: string;

beforeEach(async () => {
  const env = {
    REDIS_URL: redis.url,
    REDIS_DATA_PREFIX: `${unique('sbauth')}:`,
    DATABASE_URL: (databaseUrl = await freshSchemaUrl()),
    TOKEN_STATE_CHECK: 'true',
    TOKEN_STATE_CACHE_MS: '60000',
    LOGIN_MAX_FAILURES: '3',
  };
  a = await startAuthGateway(env);
  b = await startAuthGateway(env);
  store = await PostgresAccountStore.open(env.DATABASE_URL);
  onCleanup(() => store.close());
  await addUser(store, ALICE.username, ALICE.password, { permissions: ['publish'] });
});

describe('auth service on two nodes (PostgreSQL + Redis)', () => {
  it('a login on node A connects on node B, and B refreshes A\'s refresh token', async () => {
    const pair = await loginOk(a.authUrl, ALICE);
    const socket = await connectClient(b.url, pair.accessToken);
    const received = nextEvent(socket, 'news');
    expect((await api(a.url, '/v1/publish', { body: { event: 'news', data: 1, users: ['alice'] }, key: pair.accessToken })).status).toBe(200);
    expect((await received)[0]).toBe(1);
    const next = await refresh(b.authUrl, pair.refreshToken);
    expect(next.status).toBe(200);
    // …and the spent token is spent on A too.
    expect((await refresh(a.authUrl, pair.refreshToken)).body.error?.code).toBe('REFRESH_TOKEN_REUSED');
  });

  it('logout on node A disconnects the session\'s sockets on both nodes, and B refuses the token at once despite its cache', async () => {
    const pair = await loginOk(a.authUrl, ALICE);
    const onA = await connectClient(a.url, pair.accessToken);
    const onB = await connectClient(b.url, pair.accessToken); // B now caches the session as active (60 s)
    const events = [nextEvent(onA, 'auth:logout'), nextEvent(onB, 'auth:logout')];
    const gone = [disconnectReason(onA), disconnectReason(onB)];
    expect((await logout(a.authUrl, pair.refreshToken)).status).toBe(204);
    for (const event of await Promise.all(events)) expect(event[0]).toEqual({ reason: 'logout' });
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
    expect((await expectConnectError(b.url, { auth: { token: pair.accessToken } })).data?.code).toBe('SESSION_REVOKED');
  });

  it('logout on node A reaches a client-namespace socket on node B', async () => {
    const admin = await loginOk(a.authUrl, { accessKey: ACCESS_KEY });
    expect((await api(a.url, '/client', { body: { clientId: 'shop-9', payload: { id: 'shop-9', subscriptions: ['completed'] } }, key: admin.accessToken })).status).toBe(200);
    const namespaced = await connectClient(`${b.url}/shop-9`, admin.accessToken);
    const loggedOut = nextEvent(namespaced, 'auth:logout');
    const gone = disconnectReason(namespaced);
    expect((await logout(a.authUrl, admin.refreshToken)).status).toBe(204);
    expect((await loggedOut)[0]).toEqual({ reason: 'logout' });
    expect(await gone).toBe('io server disconnect');
  });

  it('a password change on node B logs out the user\'s other sessions on node A', async () => {
    const phone = await loginOk(a.authUrl, ALICE);
    const laptop = await loginOk(b.authUrl, ALICE);
    const phoneSocket = await connectClient(a.url, phone.accessToken);
    const loggedOut = nextEvent(phoneSocket, 'auth:logout');
    const change = await api(b.authUrl, '/password', {
      body: { oldPassword: ALICE.password, newPassword: 'a new passphrase', confirmPassword: 'a new passphrase' },
      key: laptop.accessToken,
    });
    expect(change.body).toEqual({ ok: true, sessionsRevoked: 1 });
    expect((await loggedOut)[0]).toEqual({ reason: 'password-changed' });
    expect((await login(a.authUrl, { username: 'alice', password: 'a new passphrase' })).status).toBe(200);
  });

  it('disabling a user in the shared store (the CLI) logs their sockets out on every node', async () => {
    const pair = await loginOk(a.authUrl, ALICE);
    const sockets = [await connectClient(a.url, pair.accessToken), await connectClient(b.url, pair.accessToken)];
    const events = sockets.map((socket) => nextEvent(socket, 'auth:logout'));
    await store.disableUser('alice', Date.now());
    for (const event of await Promise.all(events)) expect(event[0]).toEqual({ reason: 'user-disabled' });
    expect((await login(b.authUrl, ALICE)).body.error?.code).toBe('USER_DISABLED');
  });

  it('answers 503 AUTH_UNAVAILABLE, never 500, while the store cannot answer', async () => {
    const pair = await loginOk(a.authUrl, ALICE);
    const broken = new pg.Client(databaseUrl);
    await broken.connect();
    // The shared store loses its tables under the running nodes (a fault they must survive).
    await broken.query('DROP TABLE auth_sessions');
    await broken.end();
    for (const response of [await login(a.authUrl, ALICE), await refresh(b.authUrl, pair.refreshToken)]) {
      expect(response.status).toBe(503);
      expect(response.body.error?.code).toBe('AUTH_UNAVAILABLE');
    }
    expect(await expectRetryClose(b.url, { auth: { token: pair.accessToken } })).toBe('AUTH_UNAVAILABLE');
  });

  it('refuses logins with 503 while the shared throttle (Redis) does not answer, rather than let them through unthrottled', async () => {
    redis.pause();
    try {
      const response = await login(a.authUrl, ALICE);
      expect(response.status).toBe(503);
      expect(response.body.error?.code).toBe('AUTH_UNAVAILABLE');
      expect(response.headers.get('retry-after')).toBe('1');
    } finally {
      redis.resume();
    }
    expect((await login(a.authUrl, ALICE)).status).toBe(200);
  });

  it('counts failed logins across nodes (Redis): failures on A block the username on B', async () => {
    for (let i = 0; i < 3; i += 1) expect((await login(a.authUrl, { username: 'alice', password: `wrong ${i}` })).status).toBe(401);
    const blocked = await login(b.authUrl, ALICE);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // The access key is throttled per IP, which the same failures blocked too.
    expect((await login(b.authUrl, { accessKey: ACCESS_KEY })).status).toBe(429);
  });
});
