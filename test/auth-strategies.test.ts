import { describe, expect, it } from 'vitest';
import { IntrospectionStrategy } from '../src/auth/introspection-strategy.js';
import { loadConfig } from '../src/config/load-config.js';
import { GatewayError } from '../src/protocol/errors.js';
import { createLogger } from '../src/runtime/logger.js';
import { problemsOf } from './support/config.js';
import {
  api, connectClient, nextEvent, openClient, expectConnectError, expectRetryClose, signToken, startGateway, TEST_JWT_SECRET,
} from './support/gateway.js';
import { serveIntrospection, startReceiver } from './support/http-receiver.js';
import { unique } from './support/temp.js';

const silent = createLogger('silent');

/** A clock the test moves by hand, starting at the real time. */
function manualClock() {
  let now = Date.now();
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('introspection strategy', () => {
  it('posts { token } as JSON and reads user_id (else sub), session_id and exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const endpoint = await serveIntrospection((token) => ({
      body: token === 'with-user-id'
        ? { active: true, user_id: 'u1', sub: 'ignored', session_id: 's1', exp, roles: ['admin'] }
        : { active: true, sub: 'from-sub' },
    }));
    const strategy = new IntrospectionStrategy({ url: endpoint.url, timeoutMs: 2000, cacheTtlMs: 30_000 }, silent);
    expect(await strategy.authenticate({ token: 'with-user-id' })).toEqual({ userId: 'u1', sessionId: 's1', expiresAt: exp * 1000, roles: ['admin'] });
    expect(await strategy.authenticate({ token: 'sub-only' })).toEqual({ userId: 'from-sub', sessionId: undefined, expiresAt: undefined });
    expect(endpoint.received.map((request) => request.json)).toEqual([{ token: 'with-user-id' }, { token: 'sub-only' }]);
    expect(endpoint.received.every((request) => request.method === 'POST' && request.path === '/introspect')).toBe(true);
    expect(endpoint.received.every((request) => request.headers['content-type'] === 'application/json')).toBe(true);
  });

  it('makes at most one request per distinct token in a reconnect storm (1,000 checks, 100 tokens)', async () => {
    const endpoint = await serveIntrospection((token) => ({ body: { active: true, user_id: `user-${token}` }, delayMs: 20 }));
    const strategy = new IntrospectionStrategy({ url: endpoint.url, timeoutMs: 5000, cacheTtlMs: 30_000 }, silent);
    const tokens = Array.from({ length: 1000 }, (_, i) => `storm-token-${i % 100}`);
    const identities = await Promise.all(tokens.map((token) => strategy.authenticate({ token })));
    expect(identities.map((identity) => identity.userId)).toEqual(tokens.map((token) => `user-${token}`));
    expect(endpoint.received.length).toBeLessThanOrEqual(100);
    // A second wave is served from the cache.
    await Promise.all(tokens.map((token) => strategy.authenticate({ token })));
    expect(endpoint.received.length).toBeLessThanOrEqual(100);
  });

  it('reuses a positive answer for INTROSPECTION_CACHE_S and asks again after it', async () => {
    const endpoint = await serveIntrospection(() => ({ body: { active: true, user_id: 'cached' } }));
    const clock = manualClock();
    const strategy = new IntrospectionStrategy({ url: endpoint.url, timeoutMs: 2000, cacheTtlMs: 30_000 }, silent, { now: clock.now });
    await strategy.authenticate({ token: 't' });
    clock.advance(29_000);
    await strategy.authenticate({ token: 't' });
    expect(endpoint.received.length).toBe(1);
    clock.advance(1_000);
    await strategy.authenticate({ token: 't' });
    expect(endpoint.received.length).toBe(2);
  });

  it('never reuses an answer past the token\'s exp', async () => {
    const clock = manualClock();
    const exp = Math.floor(clock.now() / 1000) + 10;
    const endpoint = await serveIntrospection(() => ({ body: { active: true, user_id: 'short-lived', exp } }));
    const strategy = new IntrospectionStrategy({ url: endpoint.url, timeoutMs: 2000, cacheTtlMs: 30_000 }, silent, { now: clock.now });
    await strategy.authenticate({ token: 't' });
    clock.advance(5_000);
    await strategy.authenticate({ token: 't' });
    expect(endpoint.received.length).toBe(1);
    clock.advance(6_000);
    // Past exp: the cache is not used, and the endpoint's stale answer is refused as expired.
    expect(await codeOf(strategy.authenticate({ token: 't' }))).toBe('TOKEN_EXPIRED');
    expect(endpoint.received.length).toBe(2);
  });

  it('keeps at most the configured number of cached answers, dropping the oldest', async () => {
    const endpoint = await serveIntrospection((token) => ({ body: { active: true, user_id: token } }));
    const strategy = new IntrospectionStrategy({ url: endpoint.url, timeoutMs: 2000, cacheTtlMs: 30_000 }, silent, { maxCacheEntries: 2 });
    for (const token of ['a', 'b', 'c']) await strategy.authenticate({ token });
    await strategy.authenticate({ token: 'c' });
    await strategy.authenticate({ token: 'b' });
    expect(endpoint.received.length).toBe(3);
    await strategy.authenticate({ token: 'a' });
    expect(endpoint.received.length).toBe(4);
  });

  it('refuses an inactive token or an answer without a user with TOKEN_INVALID, and does not cache refusals', async () => {
    const endpoint = await serveIntrospection((token) => ({ body: token === 'no-user' ? { active: true } : { active: false } }));
    const strategy = new IntrospectionStrategy({ url: endpoint.url, timeoutMs: 2000, cacheTtlMs: 30_000 }, silent);
    expect(await codeOf(strategy.authenticate({ token: 'revoked' }))).toBe('TOKEN_INVALID');
    expect(await codeOf(strategy.authenticate({ token: 'revoked' }))).toBe('TOKEN_INVALID');
    expect(await codeOf(strategy.authenticate({ token: 'no-user' }))).toBe('TOKEN_INVALID');
    expect(endpoint.received.length).toBe(3);
  });

  it('answers AUTH_UNAVAILABLE within the timeout when the endpoint hangs', async () => {
    const endpoint = await serveIntrospection(() => 'hang');
    const strategy = new IntrospectionStrategy({ url: endpoint.url, timeoutMs: 200, cacheTtlMs: 30_000 }, silent);
    const started = Date.now();
    const codes = await Promise.all([codeOf(strategy.authenticate({ token: 'slow' })), codeOf(strategy.authenticate({ token: 'slow' }))]);
    expect(codes).toEqual(['AUTH_UNAVAILABLE', 'AUTH_UNAVAILABLE']);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(endpoint.received.length).toBe(1);
  });

  it('answers AUTH_UNAVAILABLE, not TOKEN_INVALID, for an error status, a non-JSON answer or an endpoint that is down', async () => {
    const failing = await serveIntrospection(() => ({ status: 500, body: { active: false } }));
    const strategy = new IntrospectionStrategy({ url: failing.url, timeoutMs: 2000, cacheTtlMs: 30_000 }, silent);
    expect(await codeOf(strategy.authenticate({ token: 't' }))).toBe('AUTH_UNAVAILABLE');

    const html = await startReceiver([{ headers: { 'content-type': 'text/html' }, body: '<h1>maintenance</h1>' }]);
    const htmlUrl = `${html.url}/`;
    expect(await codeOf(new IntrospectionStrategy({ url: htmlUrl, timeoutMs: 2000, cacheTtlMs: 0 }, silent).authenticate({ token: 't' }))).toBe('AUTH_UNAVAILABLE');

    const down = await serveIntrospection(() => ({ body: { active: true, user_id: 'u' } }));
    await down.close();
    expect(await codeOf(new IntrospectionStrategy({ url: down.url, timeoutMs: 2000, cacheTtlMs: 0 }, silent).authenticate({ token: 't' }))).toBe('AUTH_UNAVAILABLE');
  });
});

describe('introspection through the gateway', () => {
  it('lets a stock client in with an active token and refuses an inactive one, without logging either', async () => {
    const goodToken = unique('good-token');
    const badToken = unique('bad-token');
    const endpoint = await serveIntrospection((token) => ({
      body: token === goodToken ? { active: true, user_id: 'introspected', session_id: 'is1', exp: Math.floor(Date.now() / 1000) + 600 } : { active: false },
    }));
    const { url, logs } = await startGateway({ JWT_SECRET: '', AUTH_STRATEGY: 'introspection', INTROSPECTION_URL: endpoint.url, LOG_LEVEL: 'trace' });
    await connectClient(url, goodToken);
    const user = await api<{ online: boolean; sessions: string[] }>(url, '/v1/users/introspected');
    expect(user.body).toMatchObject({ online: true, sessions: ['is1'] });
    expect((await expectConnectError(url, { auth: { token: badToken } })).data?.code).toBe('TOKEN_INVALID');
    const stats = await api<{ node: { auth: string } }>(url, '/v1/stats');
    expect(stats.body.node.auth).toBe('introspection');
    const text = logs.join('\n');
    expect(text).not.toContain(goodToken);
    expect(text).not.toContain(badToken);
  });
});

describe('AUTH_STRATEGY=none', () => {
  it('lets every client in as its own anonymous user, warns at start, and shows "none" in /v1/stats', async () => {
    const { url, gateway, logs } = await startGateway({ AUTH_STRATEGY: 'none' });
    await connectClient(url, 'anything-at-all');
    await connectClient(url, 'anything-at-all');
    // A client that sends no token at all is let in too.
    await nextEvent(openClient(url, {}), 'connect');
    const sockets = [...gateway.io.of('/').sockets.values()];
    const userIds = sockets.map((socket) => socket.data.userId);
    expect(userIds).toHaveLength(3);
    expect(new Set(userIds).size).toBe(3);
    for (const socket of sockets) {
      expect(socket.data.userId).toMatch(/^anonymous:/);
      expect(socket.data.sessionId).toBeUndefined();
      expect(socket.data.expiresAt).toBeUndefined();
    }
    const stats = await api<{ node: { auth: string }; warnings: string[] }>(url, '/v1/stats');
    expect(stats.body.node.auth).toBe('none');
    expect(stats.body.warnings).toEqual([expect.stringContaining('AUTH_STRATEGY=none')]);
    const warnings = logs.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((entry) => entry.level === 40);
    expect(warnings.some((entry) => /AUTH_STRATEGY=none/.test(entry.msg))).toBe(true);
  });
});

describe('AUTH_SOFT_FAIL', () => {
  it('lets a socket with a bad token in as anonymous and logs only the code', async () => {
    const { url, gateway, logs } = await startGateway({ AUTH_SOFT_FAIL: 'true' });
    const forged = await signToken({ user_id: 'mallory' }, { secret: 'forged-secret-forged-secret-forged' });
    const expired = await signToken({ user_id: 'late' }, { expiresIn: -120 });
    await connectClient(url, forged);
    await connectClient(url, expired);
    await connectClient(url, await signToken({ user_id: 'genuine' }));
    const userIds = [...gateway.io.of('/').sockets.values()].map((socket) => socket.data.userId).sort();
    expect(userIds).toEqual([expect.stringMatching(/^anonymous:/), expect.stringMatching(/^anonymous:/), 'genuine']);
    expect((await api<{ online: boolean }>(url, '/v1/users/mallory')).body.online).toBe(false);
    const entries = logs.map((line) => JSON.parse(line) as { msg: string; code?: string });
    expect(entries.filter((entry) => /AUTH_SOFT_FAIL/.test(entry.msg) && entry.code !== undefined).map((entry) => entry.code).sort())
      .toEqual(['TOKEN_EXPIRED', 'TOKEN_INVALID']);
    const text = logs.join('\n');
    for (const token of [forged, expired]) expect(text).not.toContain(token.split('.')[2]);
    expect((await api<{ node: { auth: string } }>(url, '/v1/stats')).body.node.auth).toBe('jwt+soft-fail');
  });

  it('still refuses with AUTH_UNAVAILABLE when the check itself cannot be made', async () => {
    const endpoint = await serveIntrospection(() => ({ status: 503, body: {} }));
    const { url } = await startGateway({ AUTH_STRATEGY: 'introspection', INTROSPECTION_URL: endpoint.url, AUTH_SOFT_FAIL: 'true' });
    expect(await expectRetryClose(url, { auth: { token: 'whatever' } })).toBe('AUTH_UNAVAILABLE');
  });
});

describe('auth configuration', () => {
  const production = { NODE_ENV: 'production', API_KEYS: 'k'.repeat(16), JWT_SECRET: 's'.repeat(32) };

  it('defaults to jwt and reads the seed-002 IDAE_SOCKET_* aliases', () => {
    expect(loadConfig({}).authStrategy).toBe('jwt');
    expect(loadConfig({ IDAE_SOCKET_JWT_SECRET: TEST_JWT_SECRET }).jwt.secret).toBe(TEST_JWT_SECRET);
    expect(loadConfig({ JWT_SECRET: 'canonical', IDAE_SOCKET_JWT_SECRET: 'alias' }).jwt.secret).toBe('canonical');
    const config = loadConfig({ IDAE_SOCKET_AUTH_STRATEGY: 'introspection', IDAE_SOCKET_INTROSPECTION_URL: 'https://id.example/introspect' });
    expect(config).toMatchObject({
      authStrategy: 'introspection',
      introspection: { url: 'https://id.example/introspect', timeoutMs: 2000, cacheTtlMs: 30_000 },
      generated: { jwtSecret: undefined },
    });
    expect(loadConfig({ AUTH_STRATEGY: 'none', IDAE_SOCKET_AUTH_STRATEGY: 'jwt' }).authStrategy).toBe('none');
  });

  it('requires INTROSPECTION_URL with the introspection strategy, but no JWT key in production', () => {
    expect(problemsOf({ AUTH_STRATEGY: 'introspection' }).join()).toMatch(/INTROSPECTION_URL .*is required/);
    expect(problemsOf({ NODE_ENV: 'production', API_KEYS: 'k'.repeat(16), AUTH_STRATEGY: 'introspection', INTROSPECTION_URL: 'https://id.example/i' })).toEqual([]);
    expect(problemsOf({ AUTH_STRATEGY: 'magic' }).join()).toMatch(/AUTH_STRATEGY/);
  });

  it('refuses AUTH_STRATEGY=none and AUTH_SOFT_FAIL=true in production', () => {
    expect(problemsOf({ ...production, AUTH_STRATEGY: 'none' }).join()).toMatch(/AUTH_STRATEGY=none .*refused when NODE_ENV=production/);
    expect(problemsOf({ ...production, AUTH_SOFT_FAIL: 'true' }).join()).toMatch(/AUTH_SOFT_FAIL=true .*refused when NODE_ENV=production/);
    expect(problemsOf({ AUTH_STRATEGY: 'none', AUTH_SOFT_FAIL: 'true' })).toEqual([]);
  });
});

