import { decodeJwt } from 'jose';
import type { Socket } from 'socket.io-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { SqliteAccountStore } from '../src/stores/sqlite-account-store.js';
import { verifyPassword } from '../src/auth-service/passwords.js';
import { loadConfig } from '../src/config/load-config.js';
import {
  ACCESS_KEY, ACCESS_TOKEN_SECRET, ALICE, REFRESH_TOKEN_SECRET, addUser, login, loginOk, logout, refresh, sessionOf, startAuthGateway,
  type AuthGateway,
} from './support/auth.js';
import { onCleanup } from './support/cleanup.js';
import { problemsOf as problems } from './support/config.js';
import {
  api, connectClient, disconnectReason, expectConnectError, nextEvent, openClient, recordEvents, signToken, startGateway, type ErrorResponse,
} from './support/gateway.js';
import { startReceiver } from './support/http-receiver.js';
import { waitFor } from './support/wait.js';

/**
 * The built-in auth service (seeds 000 and 004) on one node with its SQLite store: login with the access
 * key and with a username and password, refresh rotation and reuse detection, logout, password change,
 * disabled users, token state checks, device reuse, permissions, brute-force throttling, and the
 * delegating verifier — through real HTTP and stock socket.io-client.
 */
let node: AuthGateway;
let store: SqliteAccountStore;

async function openStore(dataDir: string): Promise<SqliteAccountStore> {
  const opened = new SqliteAccountStore(dataDir);
  onCleanup(() => opened.close());
  return opened;
}

/** The gateway's store (as the CLI opens it), with {@link ALICE} added. */
async function openStoreWithAlice(gateway: AuthGateway, options: { permissions?: string[] } = {}): Promise<SqliteAccountStore> {
  const opened = await openStore(gateway.dataDir);
  await addUser(opened, ALICE.username, ALICE.password, options);
  return opened;
}

describe('auth service (SQLite, own port)', () => {
  beforeEach(async () => {
    node = await startAuthGateway();
    store = await openStore(node.dataDir);
    await addUser(store, ALICE.username, ALICE.password, { permissions: ['publish'] });
    await addUser(store, 'bob', 'bob-password-1');
  });

  it('listens on its own port, apart from the gateway', async () => {
    expect(new URL(node.authUrl).port).not.toBe(new URL(node.url).port);
    expect((await api(node.authUrl, '/healthz', { key: null })).status).toBe(200);
    expect((await api(node.url, '/login', { body: { accessKey: ACCESS_KEY }, key: null })).status).toBe(404);
  });

  it('opens an admin session for the access key, whose token works on the socket, the admin routes and the API', async () => {
    const pair = await loginOk(node.authUrl, { accessKey: ACCESS_KEY });
    expect(pair).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), expiresIn: 900, tokenType: 'Bearer' });
    const claims = decodeJwt(pair.accessToken);
    expect(claims).toMatchObject({ sub: 'admin', user_id: 'admin', role: 'admin', permissions: ['*'], session_id: expect.any(String), jti: expect.any(String) });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(900);

    const socket = await connectClient(node.url, pair.accessToken);
    expect(socket.connected).toBe(true);
    // Seed 000's admin-protected routes take the admin JWT as Bearer.
    const client = await api(node.url, '/client', { body: { clientId: 'shop-1', payload: { id: 'shop-1', name: 'Shop', subscriptions: ['completed'] } }, key: pair.accessToken });
    expect(client.status).toBe(200);
    // …and so does the canonical API (the admin holds every permission).
    const received = nextEvent(socket, 'hello');
    const published = await api(node.url, '/v1/publish', { body: { event: 'hello', data: { n: 1 }, users: ['admin'] }, key: pair.accessToken });
    expect(published.status).toBe(200);
    expect((await received)[0]).toEqual({ n: 1 });
  });

  it('logs out the session\'s sockets in seed 000\'s client namespaces too', async () => {
    const admin = await loginOk(node.authUrl, { accessKey: ACCESS_KEY });
    const client = await api(node.url, '/client', { body: { clientId: 'shop-2', payload: { id: 'shop-2', name: 'Shop', subscriptions: ['completed'] } }, key: admin.accessToken });
    expect(client.status).toBe(200);
    const namespaced = await connectClient(`${node.url}/shop-2`, admin.accessToken);
    const main = await connectClient(node.url, admin.accessToken);
    const events = [nextEvent(namespaced, 'auth:logout'), nextEvent(main, 'auth:logout')];
    const gone = [disconnectReason(namespaced), disconnectReason(main)];
    expect((await logout(node.authUrl, admin.refreshToken)).status).toBe(204);
    for (const event of await Promise.all(events)) expect(event[0]).toEqual({ reason: 'logout' });
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
  });

  it('refuses a wrong access key with LOGIN_FAILED, and bodies that are neither login form with INVALID_BODY', async () => {
    const wrong = await login(node.authUrl, { accessKey: 'not-the-key' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error?.code).toBe('LOGIN_FAILED');
    for (const body of [{}, { username: 'alice' }, { accessKey: ACCESS_KEY, username: 'alice', password: 'x' }, { username: 7, password: 'x' }]) {
      const response = await login(node.authUrl, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error?.code).toBe('INVALID_BODY');
    }
  });

  it('logs a user in with username and password: the token carries the claims and connects as that user', async () => {
    const pair = await loginOk(node.authUrl, ALICE);
    expect(decodeJwt(pair.accessToken)).toMatchObject({ sub: 'alice', user_id: 'alice', role: 'user', permissions: ['publish'] });
    const socket = await connectClient(node.url, pair.accessToken);
    const received = nextEvent(socket, 'notice');
    await api(node.url, '/v1/publish', { body: { event: 'notice', data: 'hi', users: ['alice'] } });
    expect((await received)[0]).toBe('hi');
  });

  it('answers an unknown user and a wrong password the same way', async () => {
    const unknown = await login(node.authUrl, { username: 'mallory', password: ALICE.password });
    const wrong = await login(node.authUrl, { username: 'alice', password: 'wrong password' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.body.error?.code).toBe('LOGIN_FAILED');
  });

  it('rotates refresh tokens, and a spent one revokes the whole session and logs its sockets out', async () => {
    const first = await loginOk(node.authUrl, ALICE);
    const socket = await connectClient(node.url, first.accessToken);
    const second = await refresh(node.authUrl, first.refreshToken);
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect(second.body.accessToken).not.toBe(first.accessToken);
    expect(sessionOf(second.body.accessToken)).toBe(sessionOf(first.accessToken));
    const third = await refresh(node.authUrl, second.body.refreshToken);
    expect(third.status).toBe(200);

    const loggedOut = nextEvent(socket, 'auth:logout');
    const gone = disconnectReason(socket);
    const reused = await refresh(node.authUrl, first.refreshToken);
    expect(reused.status).toBe(403);
    expect(reused.body.error?.code).toBe('REFRESH_TOKEN_REUSED');
    expect((await loggedOut)[0]).toEqual({ reason: 'refresh-token-reused' });
    expect(await gone).toBe('io server disconnect');
    // The newest token of that session is dead too.
    const latest = await refresh(node.authUrl, third.body.refreshToken);
    expect(latest.status).toBe(403);
    expect(latest.body.error?.code).toBe('REFRESH_TOKEN_INVALID');
  });

  it('treats two refreshes racing with one token as reuse: one wins, then the whole session is revoked', async () => {
    const pair = await loginOk(node.authUrl, ALICE);
    const answers = await Promise.all([refresh(node.authUrl, pair.refreshToken), refresh(node.authUrl, pair.refreshToken)]);
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 403]);
    expect(answers.find((answer) => answer.status === 403)?.body.error?.code).toBe('REFRESH_TOKEN_REUSED');
    const winner = answers.find((answer) => answer.status === 200)!.body;
    expect((await refresh(node.authUrl, winner.refreshToken)).body.error?.code).toBe('REFRESH_TOKEN_INVALID');
  });

  it('answers /token with 401 when the token is missing and 403 when it is unknown, an access token or forged', async () => {
    const pair = await loginOk(node.authUrl, { username: 'bob', password: 'bob-password-1' });
    for (const body of [undefined, {}, { token: '' }]) {
      const response = await api(node.authUrl, '/token', { ...(body === undefined ? {} : { body }), method: 'POST', key: null });
      expect(response.status, JSON.stringify(body)).toBe(401);
      expect((response.body as unknown as ErrorResponse).error.code).toBe('TOKEN_MISSING');
    }
    const forged = await signToken({ sub: 'bob', sid: sessionOf(pair.accessToken), gen: 0, typ: 'refresh' }, { secret: ACCESS_TOKEN_SECRET });
    for (const token of ['garbage', pair.accessToken, forged]) {
      const response = await refresh(node.authUrl, token);
      expect(response.status).toBe(403);
      expect(response.body.error?.code).toBe('REFRESH_TOKEN_INVALID');
    }
    for (const body of [{ token: 42 }, { refreshToken: ['a'] }, { token: 'x'.repeat(8193) }]) {
      const response = await api(node.authUrl, '/token', { body, key: null });
      expect(response.status, JSON.stringify(body).slice(0, 40)).toBe(400);
      expect((response.body as unknown as ErrorResponse).error).toMatchObject({ code: 'INVALID_BODY', details: { field: 'token' } });
    }
  });

  it('logs out: 204, the session is revoked and its sockets get auth:logout; logging out again is still 204', async () => {
    const pair = await loginOk(node.authUrl, ALICE);
    const other = await loginOk(node.authUrl, ALICE);
    const socket = await connectClient(node.url, pair.accessToken);
    const otherSocket = await connectClient(node.url, other.accessToken);
    const loggedOut = nextEvent(socket, 'auth:logout');
    const gone = disconnectReason(socket);
    const response = await logout(node.authUrl, pair.refreshToken);
    expect(response.status).toBe(204);
    expect((await loggedOut)[0]).toEqual({ reason: 'logout' });
    expect(await gone).toBe('io server disconnect');
    expect((await refresh(node.authUrl, pair.refreshToken)).body.error?.code).toBe('REFRESH_TOKEN_INVALID');
    expect((await logout(node.authUrl, pair.refreshToken)).status).toBe(204);
    // The user's other session is untouched.
    expect(otherSocket.connected).toBe(true);
    expect((await refresh(node.authUrl, other.refreshToken)).status).toBe(200);
    expect((await api(node.authUrl, '/logout', { method: 'DELETE', body: {}, key: null })).status).toBe(401);
    const forged = await logout(node.authUrl, other.accessToken); // an access token is not a refresh token
    expect(forged.status).toBe(403);
    expect((forged.body as unknown as ErrorResponse).error.code).toBe('REFRESH_TOKEN_INVALID');
    expect((await api(node.authUrl, '/me', { key: other.accessToken })).status).toBe(200); // …and revoked nothing
  });

  it('changes a password by the seed rules, each broken rule its own 400, and revokes every other session', async () => {
    const here = await loginOk(node.authUrl, ALICE);
    const elsewhere = await loginOk(node.authUrl, ALICE);
    const herePhone = await connectClient(node.url, here.accessToken);
    const otherPhone = await connectClient(node.url, elsewhere.accessToken);
    const change = (body: Record<string, string>, key: string | null = here.accessToken) => api(node.authUrl, '/password', { body, key });

    const rules: [Record<string, string>, string][] = [
      [{ oldPassword: ALICE.password, newPassword: 'new password 1', confirmPassword: 'new password 2' }, 'PASSWORD_MISMATCH'],
      [{ oldPassword: ALICE.password, newPassword: ALICE.password, confirmPassword: ALICE.password }, 'PASSWORD_UNCHANGED'],
      [{ oldPassword: ALICE.password, newPassword: 'short', confirmPassword: 'short' }, 'PASSWORD_TOO_WEAK'],
      [{ oldPassword: ALICE.password, newPassword: ' '.repeat(8), confirmPassword: ' '.repeat(8) }, 'PASSWORD_TOO_WEAK'],
      [{ oldPassword: ALICE.password, newPassword: '\t \u00a0\u3000\n   ', confirmPassword: '\t \u00a0\u3000\n   ' }, 'PASSWORD_TOO_WEAK'],
      [{ oldPassword: 'not my password', newPassword: 'new password 1', confirmPassword: 'new password 1' }, 'OLD_PASSWORD_WRONG'],
    ];
    for (const [body, code] of rules) {
      const response = await change(body);
      expect(response.status, code).toBe(400);
      expect((response.body as unknown as ErrorResponse).error.code).toBe(code);
    }
    const anonymous = await change({ oldPassword: 'a', newPassword: 'b', confirmPassword: 'b' }, null);
    expect(anonymous.status).toBe(401);

    const loggedOut = nextEvent(otherPhone, 'auth:logout');
    const ok = await change({ oldPassword: ALICE.password, newPassword: 'new password 1', confirmPassword: 'new password 1' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true, sessionsRevoked: 1 });
    expect((await loggedOut)[0]).toEqual({ reason: 'password-changed' });
    expect(herePhone.connected).toBe(true);
    expect((await refresh(node.authUrl, elsewhere.refreshToken)).status).toBe(403);
    expect((await refresh(node.authUrl, here.refreshToken)).status).toBe(200);
    expect((await login(node.authUrl, ALICE)).status).toBe(401);
    expect((await login(node.authUrl, { username: 'alice', password: 'new password 1' })).status).toBe(200);
    const stored = await store.findUser('alice');
    expect(await verifyPassword(stored?.passwordHash ?? '', 'new password 1')).toBe(true);
  });

  it('refuses a password change for the admin, whose key is configuration', async () => {
    const admin = await loginOk(node.authUrl, { accessKey: ACCESS_KEY });
    const response = await api(node.authUrl, '/password', { body: { oldPassword: 'a', newPassword: 'long enough 1', confirmPassword: 'long enough 1' }, key: admin.accessToken });
    expect(response.status).toBe(403);
    expect((response.body as unknown as ErrorResponse).error.code).toBe('PASSWORD_CHANGE_UNSUPPORTED');
  });

  it('disabling a user (as `npm run users -- disable` does) logs their sockets out and refuses their logins and refreshes', async () => {
    const pair = await loginOk(node.authUrl, { username: 'bob', password: 'bob-password-1' });
    const socket = await connectClient(node.url, pair.accessToken);
    const loggedOut = nextEvent(socket, 'auth:logout');
    const gone = disconnectReason(socket);
    expect(await store.disableUser('bob', Date.now())).toHaveLength(1);
    expect((await loggedOut)[0]).toEqual({ reason: 'user-disabled' });
    expect(await gone).toBe('io server disconnect');
    const again = await login(node.authUrl, { username: 'bob', password: 'bob-password-1' });
    expect(again.status).toBe(403);
    expect(again.body.error?.code).toBe('USER_DISABLED');
    // A wrong password still answers LOGIN_FAILED: "disabled" is only told to who knows the password.
    expect((await login(node.authUrl, { username: 'bob', password: 'wrong-password' })).body.error?.code).toBe('LOGIN_FAILED');
    expect((await refresh(node.authUrl, pair.refreshToken)).status).toBe(403);
    await store.enableUser('bob');
    expect((await login(node.authUrl, { username: 'bob', password: 'bob-password-1' })).status).toBe(200);
  });

  it('GET /me answers who the access token is; a logged-out token is refused there at once', async () => {
    const pair = await loginOk(node.authUrl, ALICE);
    const anonymous = await api<ErrorResponse>(node.authUrl, '/me', { key: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('TOKEN_MISSING');
    expect((await api<ErrorResponse>(node.authUrl, '/me', { key: 'not.a.token' })).body.error.code).toBe('TOKEN_INVALID');
    const me = await api(node.authUrl, '/me', { key: pair.accessToken });
    expect(me.body).toMatchObject({ userId: 'alice', sessionId: sessionOf(pair.accessToken), roles: ['user'], permissions: ['publish'] });
    await logout(node.authUrl, pair.refreshToken);
    const after = await api(node.authUrl, '/me', { key: pair.accessToken });
    expect(after.status).toBe(403);
    expect((after.body as unknown as ErrorResponse).error.code).toBe('SESSION_REVOKED');
  });

  it('requires permissions: on /v1 routes (403 FORBIDDEN) and on client events (acknowledged FORBIDDEN)', async () => {
    const alice = await loginOk(node.authUrl, ALICE);
    const bob = await loginOk(node.authUrl, { username: 'bob', password: 'bob-password-1' });
    const body = { event: 'news', data: 1, rooms: ['lobby'] };
    expect((await api(node.url, '/v1/publish', { body, key: alice.accessToken })).status).toBe(200);
    const refused = await api<ErrorResponse>(node.url, '/v1/publish', { body, key: bob.accessToken });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'FORBIDDEN', details: { permission: 'publish' } });
    const stats = await api<ErrorResponse>(node.url, '/v1/stats', { key: alice.accessToken });
    expect(stats.status).toBe(403);
    expect(stats.body.error.details).toEqual({ permission: 'read' });
    expect((await api(node.url, '/v1/publish', { body, key: 'not-a-key' })).status).toBe(401);
  });
});

describe('auth service options', () => {
  it('EVENT_PERMISSIONS: a client event needs its permission', async () => {
    const gw = await startAuthGateway({ CLIENT_EVENTS: 'client-*', EVENT_PERMISSIONS: 'client-*=publish' });
    const db = await openStoreWithAlice(gw, { permissions: ['publish'] });
    await addUser(db, 'bob', 'bob-password-1');
    const alice = await connectClient(gw.url, (await loginOk(gw.authUrl, ALICE)).accessToken);
    const bob = await connectClient(gw.url, (await loginOk(gw.authUrl, { username: 'bob', password: 'bob-password-1' })).accessToken);
    for (const socket of [alice, bob]) expect(await socket.emitWithAck('room/join-room', { room: 'lobby' })).toMatchObject({ ok: true });
    const heard = nextEvent(bob, 'client-typing');
    expect(await alice.emitWithAck('client-typing', { room: 'lobby', data: { typing: true } })).toEqual({ ok: true });
    expect((await heard)[0]).toEqual({ typing: true });
    const refused = await bob.emitWithAck('client-typing', { room: 'lobby', data: { typing: true } });
    expect(refused).toMatchObject({ error: { code: 'FORBIDDEN', details: { permission: 'publish' } } });
  });

  it('TOKEN_STATE_CHECK refuses the still-unexpired access token of a logged-out session and of a disabled user', async () => {
    const checked = await startAuthGateway({ TOKEN_STATE_CHECK: 'true' });
    const db = await openStoreWithAlice(checked);
    await addUser(db, 'bob', 'bob-password-1');
    const pair = await loginOk(checked.authUrl, ALICE);
    await connectClient(checked.url, pair.accessToken); // caches the session as active
    expect((await logout(checked.authUrl, pair.refreshToken)).status).toBe(204);
    const refusal = await expectConnectError(checked.url, { auth: { token: pair.accessToken } });
    expect(refusal.data?.code).toBe('SESSION_REVOKED');

    const bob = await loginOk(checked.authUrl, { username: 'bob', password: 'bob-password-1' });
    await db.disableUser('bob', Date.now());
    expect((await expectConnectError(checked.url, { auth: { token: bob.accessToken } })).data?.code).toBe('USER_DISABLED');
    // A token this service never issued names no session of it.
    expect((await expectConnectError(checked.url, { auth: { token: await signToken({}, { secret: ACCESS_TOKEN_SECRET }) } })).data?.code).toBe('SESSION_REVOKED');

    // Without TOKEN_STATE_CHECK, an access token stays valid until it expires (its sockets were logged out).
    const unchecked = await startAuthGateway();
    const db2 = await openStore(unchecked.dataDir);
    await addUser(db2, 'carol', 'carol-password');
    const carol = await loginOk(unchecked.authUrl, { username: 'carol', password: 'carol-password' });
    await logout(unchecked.authUrl, carol.refreshToken);
    expect((await connectClient(unchecked.url, carol.accessToken)).connected).toBe(true);
  });

  it('REUSE_ACCESS_TOKEN returns the device\'s still-valid tokens instead of minting others', async () => {
    const reuse = await startAuthGateway({ REUSE_ACCESS_TOKEN: 'true' });
    await openStoreWithAlice(reuse);
    const credentials = ALICE;
    const phone = await loginOk(reuse.authUrl, { ...credentials, deviceId: 'phone' });
    const phoneAgain = await loginOk(reuse.authUrl, { ...credentials, deviceId: 'phone' });
    expect(phoneAgain.accessToken).toBe(phone.accessToken);
    expect(phoneAgain.refreshToken).toBe(phone.refreshToken);
    expect(phoneAgain.expiresIn).toBeLessThanOrEqual(900);
    const laptop = await loginOk(reuse.authUrl, { ...credentials, deviceId: 'laptop' });
    expect(sessionOf(laptop.accessToken)).not.toBe(sessionOf(phone.accessToken));
    // Without a deviceId, or with the access key, every login is a session of its own.
    const bare = [await loginOk(reuse.authUrl, credentials), await loginOk(reuse.authUrl, credentials)];
    expect(sessionOf(bare[1]!.accessToken)).not.toBe(sessionOf(bare[0]!.accessToken));
    const admins = [await loginOk(reuse.authUrl, { accessKey: ACCESS_KEY, deviceId: 'phone' }), await loginOk(reuse.authUrl, { accessKey: ACCESS_KEY, deviceId: 'phone' })];
    expect(sessionOf(admins[1]!.accessToken)).not.toBe(sessionOf(admins[0]!.accessToken));
    // After a logout the device gets a new session.
    await logout(reuse.authUrl, phone.refreshToken);
    const fresh = await loginOk(reuse.authUrl, { ...credentials, deviceId: 'phone' });
    expect(sessionOf(fresh.accessToken)).not.toBe(sessionOf(phone.accessToken));

    // Off (the default), every login is a new session.
    const plain = await startAuthGateway({ DATA_DIR: reuse.dataDir });
    const first = await loginOk(plain.authUrl, { ...credentials, deviceId: 'phone' });
    const second = await loginOk(plain.authUrl, { ...credentials, deviceId: 'phone' });
    expect(sessionOf(second.accessToken)).not.toBe(sessionOf(first.accessToken));
  });

  it('throttles failed logins per username and per IP: 429 with Retry-After, even for the right password', async () => {
    const gw = await startAuthGateway({ LOGIN_MAX_FAILURES: '3', LOGIN_FAILURE_WINDOW_S: '60' });
    await openStoreWithAlice(gw);
    for (let i = 0; i < 3; i += 1) expect((await login(gw.authUrl, { username: 'alice', password: `wrong ${i}` })).status).toBe(401);
    const blocked = await login(gw.authUrl, ALICE);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error?.code).toBe('RATE_LIMITED');
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The same IP is blocked for other usernames too (3 failures counted against it), and for the access key.
    expect((await login(gw.authUrl, { username: 'someone-else', password: 'whatever1' })).status).toBe(429);
    expect((await login(gw.authUrl, { accessKey: ACCESS_KEY })).status).toBe(429);
  });

  it('limits guesses sent in parallel too: a burst gets at most LOGIN_MAX_FAILURES answers of LOGIN_FAILED', async () => {
    const gw = await startAuthGateway({ LOGIN_MAX_FAILURES: '3', LOGIN_FAILURE_WINDOW_S: '60' });
    await openStoreWithAlice(gw);
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => login(gw.authUrl, { username: 'alice', password: `guess ${i}` })));
    const statuses = burst.map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(17);
  });

  it('counts per client IP behind a proxy only with TRUST_PROXY (X-Forwarded-For)', async () => {
    const env = { LOGIN_MAX_FAILURES: '2', LOGIN_FAILURE_WINDOW_S: '60' };
    const attempt = (authUrl: string, ip: string, username: string) =>
      api<ErrorResponse>(authUrl, '/login', { body: { username, password: 'wrong-password' }, key: null, headers: { 'x-forwarded-for': ip } });
    const proxied = await startAuthGateway({ ...env, TRUST_PROXY: '127.0.0.1' });
    for (const name of ['u1', 'u2']) expect((await attempt(proxied.authUrl, '203.0.113.7', name)).status).toBe(401);
    expect((await attempt(proxied.authUrl, '203.0.113.7', 'u3')).status).toBe(429);
    expect((await attempt(proxied.authUrl, '198.51.100.9', 'u4')).status).toBe(401);
    // IPv6 clients count per /64 (one host usually holds the whole network).
    for (const name of ['u5', 'u6']) expect((await attempt(proxied.authUrl, '2001:db8:0:1::5', name)).status).toBe(401);
    expect((await attempt(proxied.authUrl, '2001:db8:0:1:ffff::9', 'u7')).status).toBe(429);
    expect((await attempt(proxied.authUrl, '2001:db8:0:2::5', 'u8')).status).toBe(401);
    // Without it the header is ignored: every request is the proxy's (here 127.0.0.1).
    const direct = await startAuthGateway(env);
    for (const name of ['u1', 'u2']) expect((await attempt(direct.authUrl, '203.0.113.7', name)).status).toBe(401);
    expect((await attempt(direct.authUrl, '198.51.100.9', 'u4')).status).toBe(429);
  });

  it('mounts the routes under /auth on the gateway port with AUTH_PORT=same', async () => {
    const same = await startAuthGateway({ AUTH_PORT: 'same' });
    expect(same.authUrl).toBe(`${same.url}/auth`);
    const pair = await loginOk(same.authUrl, { accessKey: ACCESS_KEY });
    expect((await refresh(same.authUrl, pair.refreshToken)).status).toBe(200);
  });
});

describe('auth service and connection-state recovery', () => {
  it('logs out a socket that comes back by recovery after its session was revoked', async () => {
    const gw = await startAuthGateway();
    await openStoreWithAlice(gw);
    const pair = await loginOk(gw.authUrl, ALICE);
    // The client reconnects one second after its transport drops; meanwhile the session is logged out.
    const socket = openClient(gw.url, { auth: { token: pair.accessToken }, reconnection: true, reconnectionDelay: 1000, randomizationFactor: 0 });
    await nextEvent(socket, 'connect');
    await receiveOne(gw.url, socket); // recovery resumes from the last message the client got
    socket.io.engine.close();
    // Once the gateway has seen the drop (else the logout would find the socket still there and end it for good).
    await waitFor(async () => !(await api<{ online: boolean }>(gw.url, '/v1/users/alice')).body.online, { intervalMs: 10, what: 'the gateway to see the drop' });
    expect((await logout(gw.authUrl, pair.refreshToken)).status).toBe(204);
    const back = nextEvent(socket, 'connect');
    const seen = recordEvents(socket);
    const gone = disconnectReason(socket);
    await back;
    expect(socket.recovered).toBe(true);
    expect(await gone).toBe('io server disconnect');
    // The missed `logout` is replayed by recovery; the gateway's own verdict follows.
    expect(seen.filter((e) => e.event === 'auth:logout').map((e) => e.args[0])).toEqual([{ reason: 'logout' }, { reason: 'session-revoked' }]);
  });

  it('lets a recovered socket of a live session back in', async () => {
    const gw = await startAuthGateway();
    await openStoreWithAlice(gw);
    const pair = await loginOk(gw.authUrl, ALICE);
    const socket = openClient(gw.url, { auth: { token: pair.accessToken }, reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    await nextEvent(socket, 'connect');
    await receiveOne(gw.url, socket);
    const back = nextEvent(socket, 'connect');
    socket.io.engine.close();
    await back;
    expect(socket.recovered).toBe(true);
    const received = nextEvent(socket, 'news');
    await api(gw.url, '/v1/publish', { body: { event: 'news', data: 1, users: ['alice'] } });
    expect((await received)[0]).toBe(1);
  });
});

describe('user tokens on /v1 without the auth service', () => {
  it('are refused whatever permissions they claim: only API keys pass', async () => {
    const gw = await startGateway();
    const token = await signToken({ permissions: ['publish', 'read', 'admin'], scope: 'read' });
    for (const [path, body] of [['/v1/stats', undefined], ['/v1/publish', { event: 'x', rooms: ['r'] }]] as const) {
      const response = await api<ErrorResponse>(gw.url, path, { key: token, ...(body === undefined ? {} : { body }) });
      expect(response.status, path).toBe(401);
      expect(response.body.error.code).toBe('API_KEY_INVALID');
    }
  });
});

describe('auth service logs', () => {
  it('never write a password, a hash, an access key or a token, even at trace level', async () => {
    const gw = await startAuthGateway({ LOG_LEVEL: 'trace', TOKEN_STATE_CHECK: 'true' });
    const db = await openStoreWithAlice(gw);
    const secrets: string[] = [ALICE.password, 'new password 1', ACCESS_KEY, REFRESH_TOKEN_SECRET, ACCESS_TOKEN_SECRET];
    const admin = await loginOk(gw.authUrl, { accessKey: ACCESS_KEY });
    const pair = await loginOk(gw.authUrl, ALICE);
    await login(gw.authUrl, { username: ALICE.password, password: 'typed in the wrong field' });
    secrets.push('typed in the wrong field');
    await connectClient(gw.url, pair.accessToken);
    const rotated = await refresh(gw.authUrl, pair.refreshToken);
    await refresh(gw.authUrl, pair.refreshToken); // reuse: logged as a warning
    await api(gw.authUrl, '/password', { body: { oldPassword: ALICE.password, newPassword: 'new password 1', confirmPassword: 'new password 1' }, key: rotated.body.accessToken });
    await logout(gw.authUrl, admin.refreshToken);
    const hash = (await db.findUser('alice'))?.passwordHash ?? 'missing';
    secrets.push(admin.accessToken, admin.refreshToken, pair.accessToken, pair.refreshToken, rotated.body.accessToken, rotated.body.refreshToken, hash, hash.split('$').at(-1) ?? hash);
    const text = gw.logs.join('\n');
    expect(text).toContain('logged in');
    for (const secret of secrets) expect(text.includes(secret), `a log line holds ${secret.slice(0, 12)}…`).toBe(false);
  });
});

describe('VERIFY_USER_URL', () => {
  it('delegates the check to the backend: 200 { id, role, permissions } logs in, a refusal is LOGIN_FAILED, silence or errors are 503 with Retry-After', async () => {
    // The user backend: alice with the right password is user 42; `slow` never gets an answer, `broken` a 500.
    const backend = await startReceiver(({ json }) => {
      const { username, password } = json as { username?: string; password?: string };
      if (username === 'slow') return 'hang';
      if (username === 'broken') return 500;
      if (username === 'alice' && password === 'right-password') return { body: { id: 42, role: 'editor', permissions: ['publish', 'read'] } };
      return 401;
    });
    const gw = await startAuthGateway({ VERIFY_USER_URL: `${backend.url}/verify`, VERIFY_USER_TIMEOUT_MS: '300' });
    const pair = await loginOk(gw.authUrl, { username: 'alice', password: 'right-password' });
    expect(backend.received[0]).toMatchObject({ method: 'POST', path: '/verify' });
    expect(backend.received[0]?.json).toEqual({ username: 'alice', password: 'right-password' });
    expect(decodeJwt(pair.accessToken)).toMatchObject({ user_id: '42', role: 'editor', permissions: ['publish', 'read'] });
    expect((await connectClient(gw.url, pair.accessToken)).connected).toBe(true);
    expect((await login(gw.authUrl, { username: 'alice', password: 'wrong' })).body.error?.code).toBe('LOGIN_FAILED');
    for (const username of ['slow', 'broken']) {
      const response = await login(gw.authUrl, { username, password: 'whatever' });
      expect(response.status, username).toBe(503);
      expect(response.body.error?.code).toBe('AUTH_UNAVAILABLE');
      // AUTH_UNAVAILABLE is transient: the catalog's retry hint becomes the header.
      expect(response.headers.get('retry-after'), username).toBe('1');
    }
    // Passwords live in the backend: they are not changed here.
    const change = await api(gw.authUrl, '/password', { body: { oldPassword: 'right-password', newPassword: 'another-one-1', confirmPassword: 'another-one-1' }, key: pair.accessToken });
    expect(change.status).toBe(403);
  });
});

describe('auth service configuration', () => {
  const base = { NODE_ENV: 'test', ACCESS_TOKEN_SECRET, REFRESH_TOKEN_SECRET };

  it('turns on with ACCESS_TOKEN_SECRET, verifies client tokens with it and defaults to port 4000, 15 min and 30 days', () => {
    const config = loadConfig(base);
    expect(config.authService).toMatchObject({ port: 4000, accessTokenTtlS: 900, refreshTokenTtlS: 30 * 86_400, reuseAccessToken: false });
    expect(config.jwt.secret).toBe(ACCESS_TOKEN_SECRET);
    expect(loadConfig({ ...base, ACCESS_TOKEN_TTL: '5m', REFRESH_TOKEN_TTL: '7d' }).authService).toMatchObject({ accessTokenTtlS: 300, refreshTokenTtlS: 604_800 });
    expect(loadConfig({ NODE_ENV: 'test' }).authService).toBeUndefined();
    expect(loadConfig({ ...base, AUTH_SERVICE: 'off' }).authService).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'test', AUTH_SERVICE: 'on' }).authService?.accessKey).toMatch(/^ak_dev_/);
  });

  it('refuses shared or weak secrets, a state check without the service, and bad EVENT_PERMISSIONS', () => {
    expect(problems({ ...base, REFRESH_TOKEN_SECRET: ACCESS_TOKEN_SECRET }).join()).toMatch(/REFRESH_TOKEN_SECRET must differ/);
    expect(problems({ ...base, JWT_SECRET: REFRESH_TOKEN_SECRET }).join()).toMatch(/REFRESH_TOKEN_SECRET must differ/);
    expect(problems({ NODE_ENV: 'test', TOKEN_STATE_CHECK: 'true' }).join()).toMatch(/TOKEN_STATE_CHECK=true needs the auth service/);
    expect(problems({ ...base, EVENT_PERMISSIONS: 'client-typing' }).join()).toMatch(/EVENT_PERMISSIONS/);
    expect(problems({ ...base, ACCESS_TOKEN_TTL: '30d', REFRESH_TOKEN_TTL: '1d' }).join()).toMatch(/ACCESS_TOKEN_TTL must be shorter/);
    expect(problems({ ...base, PORT: '4000' }).join()).toMatch(/AUTH_PORT=4000/);
    const production = problems({ NODE_ENV: 'production', API_KEYS: 'k'.repeat(20), AUTH_SERVICE: 'on', ACCESS_TOKEN_SECRET: 'short' });
    expect(production.join()).toMatch(/ACCESS_TOKEN_SECRET must be at least 32/);
    expect(production.join()).toMatch(/REFRESH_TOKEN_SECRET is required/);
  });
});

/** Publishes one message to alice and waits until `socket` has it. */
async function receiveOne(url: string, socket: Socket): Promise<void> {
  const received = nextEvent(socket, 'warm-up');
  await api(url, '/v1/publish', { body: { event: 'warm-up', data: 0, users: ['alice'] } });
  await received;
}
