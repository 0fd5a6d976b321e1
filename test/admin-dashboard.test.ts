import { mkdirSync } from 'node:fs';
import { decodeJwt } from 'jose';
import type { Page } from 'puppeteer-core';
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { AdminSessions } from '../src/http/admin/admin-sessions.js';
import { RecentActivity } from '../src/runtime/recent-activity.js';
import { SqliteAccountStore } from '../src/stores/sqlite-account-store.js';
import { ACCESS_KEY, addUser, loginOk, startAuthGateway } from './support/auth.js';
import { launchBrowser } from './support/browser.js';
import { onCleanup } from './support/cleanup.js';
import {
  TEST_API_KEY, api, connectAs, disconnectReason, expectConnectError, flush, nextEvent, recordEvents, startGateway, type ErrorResponse,
} from './support/gateway.js';
import { startRedis } from './support/redis.js';
import { unique } from './support/temp.js';
import { waitFor } from './support/wait.js';

/**
 * The admin dashboard at /admin (docs/admin.md): signed in with an API key or an admin token, in real
 * headless Chromium driven by puppeteer-core against the real gateway and stock socket.io clients; its
 * session cookie, CSRF and Origin rules, and its live feed over plain HTTP.
 */

/** Where the browser tests leave their screenshots (git-ignored). */
const ARTIFACTS = new URL('./artifacts/', import.meta.url);

interface Snapshot {
  totals: { connections: number; users: number; rooms: number } | null;
  nodes: { nodeId: string; connections: number; self: boolean }[];
  published: { perSecond: number[]; total: number };
  rooms: { top: { room: string; sockets: number }[]; count: number } | null;
  refusals: { codes: { code: string; count: number }[] };
  local: { namespaces: { name: string; sockets: number }[]; transports: Record<string, number> };
}

/** `POST /admin/api/session` from the gateway's own origin, as the sign-in page sends it. */
function signInRequest(url: string, credential: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/admin/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url, ...headers },
    body: JSON.stringify({ credential }),
  });
}

/** Signs in and answers the `name=value` of the session cookie. */
async function signIn(url: string, credential = TEST_API_KEY): Promise<string> {
  const response = await signInRequest(url, credential);
  expect(response.status).toBe(200);
  return response.headers.get('set-cookie')!.split(';')[0]!;
}

/** The dashboard API with a session cookie, from the gateway's own origin unless `origin` says otherwise. */
function adminApi<T = Record<string, unknown>>(url: string, path: string, cookie: string | undefined, options: { body?: unknown; method?: string; origin?: string | null } = {}) {
  const headers: Record<string, string> = cookie === undefined ? {} : { cookie };
  if (options.origin !== null) headers.origin = options.origin ?? url;
  return api<T>(url, `/admin/api${path}`, { key: null, headers, ...(options.body === undefined ? {} : { body: options.body }), ...(options.method === undefined ? {} : { method: options.method }) });
}

/** An open feed: its events as they arrive (`event` and parsed `data`), and a way to stop reading. */
async function openFeed(url: string, cookie: string) {
  // Not aborted by the test: the gateway ends its feeds when it closes.
  const response = await fetch(`${url}/admin/api/feed`, { headers: { cookie } });
  const events: { event: string; data: unknown }[] = [];
  let ended = false;
  if (response.ok) {
    void (async () => {
      let buffer = '';
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body!) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, at);
            buffer = buffer.slice(at + 2);
            const event = /^event: (.+)$/m.exec(block)?.[1];
            const data = /^data: (.+)$/m.exec(block)?.[1];
            if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
          }
        }
      } catch {
        // the connection went with the gateway
      }
      ended = true;
    })();
  }
  return {
    response,
    events,
    get ended() {
      return ended;
    },
    /** The next snapshot after the ones already seen. */
    async snapshot(): Promise<Snapshot> {
      const seen = events.length;
      const next = await waitFor(() => events.slice(seen).find((e) => e.event === 'snapshot') ?? false, { what: 'a feed snapshot' });
      return next.data as Snapshot;
    },
  };
}

/** Signs in through the page, as an operator does: the sign-in form, then the dashboard. */
async function signInThroughPage(page: Page, url: string, credential: string): Promise<void> {
  await page.goto(`${url}/admin`);
  expect(page.url()).toBe(`${url}/admin/sign-in`);
  await page.type('#credential', credential);
  await Promise.all([page.waitForNavigation(), page.click('#sign-in-form button[type="submit"]')]);
}

/** Waits until `expression`, JavaScript evaluated in the page, is true. */
async function until(page: Page, expression: string): Promise<void> {
  await page.waitForFunction(expression, { timeout: 10_000 });
}

async function textOf(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (element) => element.textContent ?? '');
}

async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: new URL(name, ARTIFACTS).pathname as `${string}.png`, fullPage });
}

describe('the dashboard in Chromium', () => {
  it('signs in, shows three clients, looks up a user, publishes to one and disconnects another, at desktop and phone widths', async () => {
    const { url } = await startGateway();
    const alice = await connectAs(url, 'alice', 'alice-phone');
    const bob = await connectAs(url, 'bob', 'bob-laptop');
    const carol = await connectAs(url, 'carol', 'carol-tablet');
    for (const socket of [alice, bob]) expect(await socket.emitWithAck('room/join-room', 'chat:lobby')).toMatchObject({ ok: true });
    const browser = await launchBrowser();
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    page.on('dialog', (dialog) => void dialog.accept());

    await signInThroughPage(page, url, TEST_API_KEY);
    expect(page.url()).toBe(`${url}/admin`);
    await until(page, `document.querySelector('[data-stat="connections"]')?.textContent === '3'`);
    await until(page, `document.querySelector('#live')?.getAttribute('data-state') === 'live'`);
    expect(await textOf(page, '#rooms-table tbody')).toContain('chat:lobby');

    // Nothing of the credential or the session is where a script could read it.
    expect(await page.evaluate('({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie })')).toEqual({ local: 0, session: 0, cookie: '' });
    const [cookie, ...others] = await browser.cookies();
    expect(others).toEqual([]);
    expect(cookie).toMatchObject({ name: 'switchboard_admin_sid', path: '/admin', httpOnly: true, sameSite: 'Strict', secure: false });
    expect(cookie!.value).not.toContain(TEST_API_KEY);

    // Look up a user: her connection, session and rooms.
    await page.type('#user-id', 'alice');
    await page.click('#user-form button');
    await until(page, `document.querySelector('#user-result')?.textContent?.includes('alice-phone')`);
    const lookup = await textOf(page, '#user-result');
    expect(lookup).toContain('online');
    expect(lookup).toContain('chat:lobby');
    expect(lookup).toContain(alice.id!.slice(0, 10));

    // Publish a test message to her: the stock client gets it.
    const arrival = nextEvent(alice, 'admin:test');
    await page.select('#publish-form select[name="kind"]', 'users');
    await page.type('#publish-form input[name="target"]', 'alice');
    await page.click('#publish-form button[type="submit"]');
    expect((await arrival)[0]).toEqual({ text: 'Hello from the dashboard' });
    await until(page, `document.querySelector('#publish-result')?.textContent?.startsWith('Published')`);
    await screenshot(page, 'admin-dashboard-1280x800.png');

    // Disconnect another user: the client sees the server's disconnect; the count follows.
    const bobEvents = recordEvents(bob);
    const bobGone = disconnectReason(bob);
    await page.$eval('#user-id', (input) => { (input as unknown as { value: string }).value = ''; });
    await page.type('#user-id', 'bob');
    await page.click('#user-form button');
    await until(page, `document.querySelector('#user-result')?.textContent?.includes('bob-laptop')`);
    const disconnectAll = await page.waitForSelector('#user-result button.danger');
    await disconnectAll!.click();
    expect(await bobGone).toBe('io server disconnect');
    expect(bobEvents.map(({ event }) => event)).toEqual([]);
    await until(page, `document.querySelector('[data-stat="connections"]')?.textContent === '2'`);
    await flush(url, alice, carol);

    // The same page at phone width: one column, nothing wider than the screen.
    await page.setViewport({ width: 390, height: 844 });
    await until(page, `document.documentElement.scrollWidth <= 390`);
    await screenshot(page, 'admin-dashboard-390x844.png', true);
  });

  it('refuses a wrong key and says so on the page, setting no cookie', async () => {
    const { url } = await startGateway();
    const browser = await launchBrowser();
    const page = await browser.newPage();
    await page.setViewport({ width: 390, height: 844 });
    await page.goto(`${url}/admin/sign-in`);
    await page.type('#credential', 'not-the-key');
    await page.click('#sign-in-form button[type="submit"]');
    await until(page, `!document.querySelector('#sign-in-error').hidden`);
    expect(await textOf(page, '#sign-in-error')).toBe('That key or token was refused.');
    expect(page.url()).toBe(`${url}/admin/sign-in`);
    expect(await page.$eval('#credential', (input) => (input as unknown as { value: string }).value)).toBe('');
    expect(await browser.cookies()).toEqual([]);
    expect(await page.evaluate('({ local: localStorage.length, session: sessionStorage.length })')).toEqual({ local: 0, session: 0 });
    await page.goto(`${url}/admin`);
    expect(page.url()).toBe(`${url}/admin/sign-in`);
  });
});

describe('signing in', () => {
  it('reaches no page, file, API route or feed of the dashboard without a session', async () => {
    const { url } = await startGateway();
    const alice = await connectAs(url, 'alice', 's1');
    const aliceEvents = recordEvents(alice);
    const page = await fetch(`${url}/admin`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/admin/sign-in');
    for (const path of ['/admin/assets/dashboard.js', '/admin/assets/chart.js', '/admin/api/feed', '/admin/api/session', '/admin/api/users/alice', '/admin/api/rooms/chat:lobby/history']) {
      const response = await api<ErrorResponse>(url, path, { key: null });
      expect(response.status, path).toBe(401);
      expect(response.body.error.code, path).toBe('ADMIN_SIGN_IN_REQUIRED');
    }
    for (const cookie of [undefined, 'switchboard_admin_sid=made-up', `switchboard_admin_sid=${TEST_API_KEY}`]) {
      const published = await adminApi<ErrorResponse>(url, '/publish', cookie, { body: { event: 'sneaky', users: ['alice'] } });
      expect(published.status).toBe(401);
      expect((await adminApi(url, '/users/alice/disconnect', cookie, { method: 'POST' })).status).toBe(401);
    }
    // An API key opens the API, not the dashboard: /admin wants the session cookie.
    expect((await api(url, '/admin/api/users/alice')).status).toBe(401);
    await flush(url, alice);
    expect(aliceEvents.map(({ event }) => event)).toEqual(['test:marker']);
    expect(alice.connected).toBe(true);
    // What the sign-in page itself needs is served.
    for (const path of ['/admin/sign-in', '/admin/assets/admin.css', '/admin/assets/sign-in.js', '/admin/assets/icon.svg']) {
      expect((await fetch(`${url}${path}`)).status, path).toBe(200);
    }
    expect((await fetch(`${url}/admin/assets/index.html`)).status).toBe(404);
  });

  it('sets an HttpOnly, SameSite=Strict cookie for /admin with an opaque id, Secure over https, and refuses wrong keys', async () => {
    const { url, logs } = await startGateway({ TRUST_PROXY: 'true' });
    const wrong = await signInRequest(url, 'not-the-key');
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as ErrorResponse).error.code).toBe('API_KEY_INVALID');
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const response = await signInRequest(url, TEST_API_KEY);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ via: 'api-key', expiresAt: expect.any(Number) });
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^switchboard_admin_sid=[A-Za-z0-9_-]{43}; Path=\/admin; Max-Age=(900|899); HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(TEST_API_KEY);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");

    const https = url.replace('http://', 'https://');
    const secure = await signInRequest(url, TEST_API_KEY, { 'x-forwarded-proto': 'https', origin: https });
    expect(secure.status).toBe(200);
    expect(secure.headers.get('set-cookie')).toMatch(/; Secure$/);
    // Sign-ins are logged, the keys and session ids never.
    const logged = logs.join('\n');
    expect(logged).toContain('admin signed in');
    expect(logged).toContain('admin sign-in refused');
    for (const secret of [TEST_API_KEY, 'not-the-key', cookie.split(';')[0]!.split('=')[1]!]) expect(logged).not.toContain(secret);
  });

  it('takes an auth-service token with the admin permission, for no longer than the token lives', async () => {
    const gateway = await startAuthGateway();
    const store = new SqliteAccountStore(gateway.dataDir);
    onCleanup(() => store.close());
    await addUser(store, 'reader', 'reader-password-1', { permissions: ['read', 'publish'] });
    const admin = await loginOk(gateway.authUrl, { accessKey: ACCESS_KEY });
    const response = await signInRequest(gateway.url, admin.accessToken);
    expect(response.status).toBe(200);
    const session = (await response.json()) as { via: string; userId: string; expiresAt: number };
    expect(session).toMatchObject({ via: 'token', userId: 'admin' });
    expect(session.expiresAt).toBeLessThanOrEqual(Number(decodeJwt(admin.accessToken).exp) * 1000);

    const reader = await loginOk(gateway.authUrl, { username: 'reader', password: 'reader-password-1' });
    const refused = await signInRequest(gateway.url, reader.accessToken);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as ErrorResponse).error).toMatchObject({ code: 'FORBIDDEN', details: { permission: 'admin' } });
  });

  it('ends the session at the token\'s expiry: the feed says so and closes', async () => {
    const gateway = await startAuthGateway({ ACCESS_TOKEN_TTL: '3' });
    const admin = await loginOk(gateway.authUrl, { accessKey: ACCESS_KEY });
    const cookie = await signIn(gateway.url, admin.accessToken);
    const feed = await openFeed(gateway.url, cookie);
    await feed.snapshot();
    await waitFor(() => feed.ended, { timeoutMs: 6000, what: 'the feed to end' });
    expect(feed.events.at(-1)).toEqual({ event: 'end', data: { reason: 'expired' } });
    expect((await adminApi(gateway.url, '/session', cookie)).status).toBe(401);
  });

  it('signs out: the cookie is cleared, the feed ends and the session no longer opens anything', async () => {
    const { url } = await startGateway();
    const cookie = await signIn(url);
    const feed = await openFeed(url, cookie);
    await feed.snapshot();
    const out = await fetch(`${url}/admin/api/session`, { method: 'DELETE', headers: { cookie, origin: url } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^switchboard_admin_sid=; Path=\/admin; Max-Age=0; HttpOnly; SameSite=Strict$/);
    await waitFor(() => feed.ended, { what: 'the feed to end' });
    expect(feed.events.at(-1)).toEqual({ event: 'end', data: { reason: 'signed-out' } });
    expect((await fetch(`${url}/admin/api/feed`, { headers: { cookie } })).status).toBe(401);
    expect((await fetch(`${url}/admin`, { headers: { cookie }, redirect: 'manual' })).status).toBe(303);
  });

  it('refuses every state-changing request whose Origin is not the dashboard\'s own, even with CORS_ORIGIN=*', async () => {
    const { url } = await startGateway({ CORS_ORIGIN: '*' });
    const alice = await connectAs(url, 'alice', 's1');
    const aliceEvents = recordEvents(alice);
    const cookie = await signIn(url);
    for (const origin of ['http://evil.example', 'null', null]) {
      const publish = await adminApi<ErrorResponse>(url, '/publish', cookie, { body: { event: 'csrf', users: ['alice'] }, origin });
      expect(publish.status).toBe(403);
      expect(publish.body.error.code).toBe('ORIGIN_FORBIDDEN');
      expect((await adminApi(url, '/users/alice/disconnect', cookie, { method: 'POST', origin })).status).toBe(403);
      expect((await adminApi(url, '/session', cookie, { method: 'DELETE', origin })).status).toBe(403);
    }
    expect((await signInRequest(url, TEST_API_KEY, { origin: 'http://evil.example' })).status).toBe(403);
    await flush(url, alice);
    expect(aliceEvents.map(({ event }) => event)).toEqual(['test:marker']);
    expect((await adminApi(url, '/session', cookie)).status).toBe(200);
    // From its own origin the same request passes.
    const delivered = nextEvent(alice, 'same-origin');
    expect((await adminApi(url, '/publish', cookie, { body: { event: 'same-origin', users: ['alice'] } })).status).toBe(200);
    await delivered;
  });

  it('is not mounted with ADMIN_UI=false', async () => {
    const { url } = await startGateway({ ADMIN_UI: 'false' });
    expect((await fetch(`${url}/admin`, { redirect: 'manual' })).status).toBe(404);
    expect((await signInRequest(url, TEST_API_KEY)).status).toBe(404);
  });
});

describe('the operations of the dashboard API', () => {
  it('are /v1\'s and the internal routes\': user lookup with rooms, room presence and history, publish, disconnect, force-logout', async () => {
    const { url } = await startGateway();
    const phone = await connectAs(url, 'dana', 'dana-phone');
    const laptop = await connectAs(url, 'dana', 'dana-laptop');
    expect(await phone.emitWithAck('room/join-room', 'ops')).toMatchObject({ ok: true });
    const cookie = await signIn(url);

    const user = await adminApi<{ online: boolean; connections: { socketId: string; sessionId: string; rooms: string[] }[] }>(url, '/users/dana', cookie);
    expect(user.body.online).toBe(true);
    expect(user.body.connections.find((c) => c.socketId === phone.id)?.rooms.sort()).toEqual(['ops', 'session:dana-phone', 'user:dana']);

    const published = await adminApi<{ offset: number }>(url, '/publish', cookie, { body: { event: 'note', data: { n: 1 }, rooms: ['ops'] } });
    expect(published.status).toBe(200);
    const history = await adminApi<{ messages: { event: string; data: unknown }[] }>(url, '/rooms/ops/history', cookie);
    expect(history.body.messages).toEqual([expect.objectContaining({ event: 'note', data: { n: 1 } })]);
    expect((await adminApi(url, '/rooms/ops/presence', cookie)).body).toEqual({ room: 'ops', members: [{ userId: 'dana', connections: 1 }] });

    const loggedOut = nextEvent<[{ reason: string }]>(laptop, 'auth:logout');
    const forced = await adminApi(url, '/force-logout', cookie, { body: { userId: 'dana', sessionId: 'dana-phone' } });
    expect(forced.body).toEqual({ ok: true, disconnected: 1 });
    expect((await loggedOut)[0]).toEqual({ reason: 'force-logout' });

    const gone = disconnectReason(phone);
    expect((await adminApi(url, '/users/dana/disconnect', cookie, { body: { sessionId: 'dana-phone' } })).body).toEqual({ disconnected: 1 });
    expect(await gone).toBe('io server disconnect');
  });
});

describe('the live feed', () => {
  it('counts publications per second and refusals by code (HTTP and handshakes)', async () => {
    const { url } = await startGateway();
    const alice = await connectAs(url, 'alice', 's1');
    expect((await signInRequest(url, 'not-the-key')).status).toBe(401);
    expect((await expectConnectError(url, { auth: { token: 'not.a.token' } })).data?.code).toBe('TOKEN_INVALID');
    for (let i = 0; i < 3; i += 1) expect((await api(url, '/v1/publish', { body: { event: 'tick', users: ['alice'] } })).status).toBe(200);
    await flush(url, alice);
    const feed = await openFeed(url, await signIn(url));
    const snapshot = await waitFor(async () => {
      const next = await feed.snapshot();
      expect(next.published.perSecond.reduce((sum, n) => sum + n, 0)).toBe(4); // the three ticks and the marker
      return next;
    }, { timeoutMs: 8000 });
    expect(snapshot.published.total).toBe(4);
    expect(snapshot.published.perSecond).toHaveLength(300);
    expect(snapshot.refusals.codes).toEqual(expect.arrayContaining([{ code: 'API_KEY_INVALID', count: 1, lastAt: expect.any(Number) }, { code: 'TOKEN_INVALID', count: 1, lastAt: expect.any(Number) }]));
    expect(snapshot.totals).toEqual({ connections: 1, users: 1, rooms: 2 });
    expect(snapshot.local).toEqual({ namespaces: [{ name: '/', sockets: 1 }], transports: { websocket: 1 } });
  });

  it('lists every node of a Redis cluster with its own connection count', async () => {
    const redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_DATA_PREFIX: `${unique('sbtest')}:`, PRESENCE_HEARTBEAT_MS: '500' };
    const [a, b] = [await startGateway(env), await startGateway(env)];
    const sockets: Socket[] = [await connectAs(a.url, 'ann', 'a1'), await connectAs(a.url, 'ann', 'a2'), await connectAs(b.url, 'ben', 'b1')];
    expect(sockets.every((socket) => socket.connected)).toBe(true);
    const feed = await openFeed(a.url, await signIn(a.url));
    const snapshot = await waitFor(async () => {
      const next = await feed.snapshot();
      expect(next.nodes.map(({ connections, self }) => ({ connections, self })).sort((x, y) => y.connections - x.connections))
        .toEqual([{ connections: 2, self: true }, { connections: 1, self: false }]);
      return next;
    }, { timeoutMs: 8000 });
    expect(snapshot.totals?.connections).toBe(3);
    expect(snapshot.local.namespaces).toEqual([{ name: '/', sockets: 2 }]);
  });
});

describe('pure logic', () => {
  it('RecentActivity keeps one bucket per second over its window and forgets older ones', () => {
    let now = 1_000_000;
    const activity = new RecentActivity(5, () => now);
    activity.countPublished(2);
    activity.refused('TOKEN_INVALID');
    now += 1000;
    activity.countPublished(3);
    now += 1000;
    expect(activity.publishedPerSecond()).toEqual([0, 0, 0, 2, 3]);
    expect(activity.refusalsByCode()).toEqual([{ code: 'TOKEN_INVALID', count: 1, lastAt: 1_000_000 }]);
    now += 5000;
    activity.refused('RATE_LIMITED');
    activity.refused('RATE_LIMITED');
    expect(activity.publishedPerSecond()).toEqual([0, 0, 0, 0, 0]);
    expect(activity.refusalsByCode()).toEqual([{ code: 'RATE_LIMITED', count: 2, lastAt: now }]);
  });

  it('AdminSessions expire after their lifetime or the token\'s exp, whichever comes first', () => {
    let now = 0;
    const sessions = new AdminSessions(60_000, () => now);
    const byKey = sessions.open({ via: 'api-key' });
    const byToken = sessions.open({ via: 'token', userId: 'admin', permissions: ['*'], expiresAt: 10_000 });
    expect(byKey.id).not.toBe(byToken.id);
    expect(sessions.get(byToken.id)).toBe(byToken);
    now = 10_000;
    expect(sessions.get(byToken.id)).toBeUndefined();
    expect(sessions.get(byKey.id)).toBe(byKey);
    sessions.close(byKey.id);
    expect(sessions.get(byKey.id)).toBeUndefined();
    expect(sessions.get(undefined)).toBeUndefined();
  });
});
