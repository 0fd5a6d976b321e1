import { describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import WebSocket from 'ws';
import {
  api, closeOf, connectClient, expectRetryClose, nextEvent, openClient, recordEvents, signToken, startGateway,
} from './support/gateway.js';
import { heapAfterCollection } from './support/heap.js';
import { startReceiver } from './support/http-receiver.js';
import { startRedis } from './support/redis.js';
import { unique } from './support/temp.js';
import { sleep, waitFor } from './support/wait.js';

/**
 * Transient refusals (catalog codes with a retry hint) reach a stock socket.io-client v4 as a closed
 * connection, so it retries by itself; final ones stay `connect_error` and stop it. Clients here use
 * socket.io-client's default reconnection, with only a shorter first delay to keep the tests quick.
 */
const STOCK_RECONNECTION = { reconnection: true, reconnectionDelay: 100 } as const;

/** What a client went through: its connect_errors, its reconnection attempts and its close descriptions. */
function watchClient(socket: Socket) {
  const seen = { connectErrors: [] as (string | undefined)[], attempts: 0, connects: 0, closes: [] as { code?: number; reason?: string }[] };
  socket.on('connect_error', (error: Error & { data?: { code: string } }) => void seen.connectErrors.push(error.data?.code));
  socket.on('connect', () => void (seen.connects += 1));
  socket.on('disconnect', (_reason, description) => void seen.closes.push(closeOf(description)));
  socket.io.on('reconnect_attempt', () => void (seen.attempts += 1));
  return seen;
}

/** One raw WebSocket handshake whose CONNECT carries `token`; resolves with the close code the server ends it with. */
function handshakeCloseCode(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
    ws.once('error', reject);
    ws.on('message', (data) => {
      if (String(data).startsWith('0')) ws.send(`40${JSON.stringify({ token })}`);
    });
    ws.once('close', (code) => resolve(code));
  });
}

/** Publishes one event to `userId` and expects the 2xx the issue speaks of. */
async function publishTo(url: string, userId: string, data: unknown): Promise<void> {
  const response = await api(url, '/v1/publish', { body: { event: 'test:news', users: [userId], data } });
  expect(response.status).toBe(200);
}

describe('transient handshake refusals', () => {
  it('leaves a stock client retrying through an introspection outage; it connects by itself once the endpoint is back', async () => {
    let endpointUp = false;
    const exp = Math.floor(Date.now() / 1000) + 600;
    const endpoint = await startReceiver(() => (endpointUp ? { body: { active: true, user_id: 'intro-user', session_id: 'intro-session', exp } } : 503));
    const { url, logs } = await startGateway({ AUTH_STRATEGY: 'introspection', INTROSPECTION_URL: `${endpoint.url}/introspect`, INTROSPECTION_CACHE_S: '0', LOG_SAMPLE_INTERVAL_MS: '500' });

    // Stock defaults: long-polling first, then the upgrade to WebSocket.
    const socket = openClient(url, { ...STOCK_RECONNECTION, transports: ['polling', 'websocket'], auth: { token: 'opaque-token' } });
    const seen = watchClient(socket);
    const got = recordEvents(socket);
    await waitFor(() => seen.attempts >= 3, { timeoutMs: 5000, what: 'three reconnection attempts while the endpoint answers 503' });
    expect(socket.connected).toBe(false);
    expect(seen.connectErrors).toEqual([]); // a connect_error would have stopped it for good
    expect(endpoint.received.length).toBeGreaterThanOrEqual(3);

    endpointUp = true;
    const backAt = Date.now();
    await waitFor(() => socket.connected, { timeoutMs: 6000, what: 'the client to connect by itself after the endpoint recovered' });
    expect(Date.now() - backAt).toBeLessThan(6000);
    await publishTo(url, 'intro-user', { n: 1 });
    await waitFor(() => got.length >= 1);
    await sleep(200);
    expect(got.map((entry) => [entry.event, entry.args[0]])).toEqual([['test:news', { n: 1 }]]);
    // Every refusal is logged or counted in a summary line (one line per code per LOG_SAMPLE_INTERVAL_MS).
    const refusals = () => logs.map((line) => JSON.parse(line) as { msg: string; code?: string; suppressed?: number })
      .filter((entry) => /closing the connection so the client retries/.test(entry.msg));
    await waitFor(() => refusals().reduce((sum, entry) => sum + (entry.suppressed ?? 1), 0) >= 3);
    expect(new Set(refusals().map((entry) => entry.code))).toEqual(new Set(['AUTH_UNAVAILABLE']));
  }, 20_000);

  it('leaves stock clients retrying through a Redis pause (SESSION_POLICY=latest); they connect by itself after it and receive a publish once', async () => {
    const redis = await startRedis();
    // A cap of one connection per user: a handshake refused after the cap counted it in must not keep its place.
    const { url, gateway } = await startGateway({ REDIS_URL: redis.url, REDIS_DATA_PREFIX: unique('tr'), SESSION_POLICY: 'latest', MAX_CONNECTIONS_PER_USER: '1' });
    const [userBefore, userDuring] = [unique('user'), unique('user')];
    // One client connected before the pause whose connection drops during it, one that first connects during it.
    const before = openClient(url, { ...STOCK_RECONNECTION, auth: { token: await signToken({ user_id: userBefore }) } });
    await nextEvent(before, 'connect');
    const seenBefore = watchClient(before);
    const gotBefore = recordEvents(before);

    redis.pause();
    let resumed = false;
    try {
      for (const socket of gateway.io.of('/').sockets.values()) socket.conn.close();
      const during = openClient(url, { ...STOCK_RECONNECTION, auth: { token: await signToken({ user_id: userDuring }) } });
      const seenDuring = watchClient(during);
      const gotDuring = recordEvents(during);
      await sleep(3000);
      expect(before.connected || during.connected).toBe(false);
      for (const seen of [seenBefore, seenDuring]) {
        expect(seen.connectErrors).toEqual([]);
        expect(seen.attempts).toBeGreaterThanOrEqual(1);
      }
      // The reason reaches a client that looks: the WebSocket close code 1013 and the catalog code.
      expect(seenDuring.closes.length).toBeGreaterThanOrEqual(1);
      expect(seenDuring.closes.every((close) => close.code === 1013 && /^(AUTH|ENGINE)_UNAVAILABLE$/.test(close.reason ?? ''))).toBe(true);

      redis.resume();
      resumed = true;
      await waitFor(() => before.connected && during.connected, { timeoutMs: 8000, what: 'both clients to connect by themselves after Redis resumed' });
      await publishTo(url, userBefore, { n: 2 });
      await publishTo(url, userDuring, { n: 2 });
      await waitFor(() => gotBefore.length >= 1 && gotDuring.length >= 1, { timeoutMs: 3000, what: 'the publish on both clients' });
      await sleep(300);
      for (const got of [gotBefore, gotDuring]) expect(got.filter((entry) => entry.event === 'test:news').map((entry) => entry.args[0])).toEqual([{ n: 2 }]);
    } finally {
      if (!resumed) redis.resume();
    }
  }, 30_000);
});

describe('what a transient refusal leaves behind', () => {
  it('keeps nothing of the handshakes it refuses for now: the heap stays flat over 1,000 refusals of a user past MAX_CONNECTIONS_PER_USER', async () => {
    // LOG_LEVEL error: the test gateway keeps its log lines in memory, and each refusal logs a warning. No
    // handshake rate: it would refuse most of them before the cap.
    const { url } = await startGateway({ LOG_LEVEL: 'error', MAX_CONNECTIONS_PER_USER: '1', CONNECTIONS_PER_IP_PER_S: '0' });
    const token = await signToken({ user_id: 'capped' });
    await connectClient(url, token);
    const refuse = async (count: number) => {
      for (let i = 0; i < count; i += 25) {
        const codes = await Promise.all(Array.from({ length: Math.min(25, count - i) }, () => handshakeCloseCode(url, token)));
        expect(codes.every((code) => code === 1013)).toBe(true);
      }
    };
    await refuse(100); // warm-up: code paths compiled, pools filled
    const baseline = heapAfterCollection();
    await refuse(1000);
    expect(heapAfterCollection() - baseline).toBeLessThan(2 * 1024 * 1024);
  });
});

describe('many stock clients through a Redis pause', () => {
  const CLIENTS = 50;
  const PAUSE_MS = 3000;
  const BACK_WITHIN_MS = 8000;

  it(`reconnects ${CLIENTS} stock clients whose connections drop during a ${PAUSE_MS / 1000} s Redis pause, and each receives a 2xx publish once`, async () => {
    const redis = await startRedis();
    const { url, gateway } = await startGateway({ REDIS_URL: redis.url, REDIS_DATA_PREFIX: unique('many'), SESSION_POLICY: 'latest', LOG_LEVEL: 'error' });
    const users = Array.from({ length: CLIENTS }, () => unique('user'));
    const sockets = await Promise.all(users.map(async (userId) => {
      const socket = openClient(url, { ...STOCK_RECONNECTION, auth: { token: await signToken({ user_id: userId }) } });
      await nextEvent(socket, 'connect', 10_000);
      return socket;
    }));
    const seen = sockets.map(watchClient);
    const got = sockets.map(recordEvents);

    redis.pause();
    let resumed = false;
    try {
      for (const socket of gateway.io.of('/').sockets.values()) socket.conn.close();
      await sleep(PAUSE_MS);
      expect(sockets.filter((socket) => socket.connected).length).toBe(0);
      redis.resume();
      resumed = true;
    } finally {
      if (!resumed) redis.resume();
    }
    const backAt = Date.now();
    await waitFor(() => sockets.every((socket) => socket.connected), {
      timeoutMs: BACK_WITHIN_MS,
      intervalMs: 50,
      what: `all ${CLIENTS} clients connected again (${sockets.filter((socket) => socket.connected).length} are)`,
    });
    const backIn = Date.now() - backAt;
    expect(seen.flatMap((s) => s.connectErrors)).toEqual([]);
    expect(seen.every((s) => s.attempts >= 1)).toBe(true);

    for (const [index, userId] of users.entries()) await publishTo(url, userId, { n: index });
    await waitFor(() => got.every((events) => events.some((entry) => entry.event === 'test:news')), { timeoutMs: 5000, what: 'the publish on every client' });
    await sleep(300);
    for (const [index, events] of got.entries()) {
      expect(events.filter((entry) => entry.event === 'test:news').map((entry) => entry.args[0])).toEqual([{ n: index }]);
    }
    expect(backIn).toBeLessThan(BACK_WITHIN_MS);
  }, 40_000);
});

describe('what a transient refusal leaves behind', () => {
  it('nothing: the refused socket is dropped from its namespace once its connection has closed', async () => {
    const { url, gateway } = await startGateway({ LOG_LEVEL: 'warn', MAX_CONNECTIONS_PER_USER: '1' });
    const token = await signToken({ user_id: 'capped-user' });
    await connectClient(url, token);
    for (let i = 0; i < 20; i += 1) expect(await expectRetryClose(url, { auth: { token } })).toBe('RATE_LIMITED');
    // Socket.IO holds a socket whose handshake has no answer yet (with its auth payload, the token) in its
    // namespace; a refusal that only closed the connection kept every one of them for good.
    const waiting = (gateway.io.of('/') as unknown as { _preConnectSockets: Map<string, unknown> })._preConnectSockets;
    await waitFor(() => waiting.size === 0, { what: 'the refused sockets to be dropped' });
  });
});

describe('final handshake refusals', () => {
  it('stops a stock client with default reconnection at connect_error TOKEN_INVALID: no further attempt', async () => {
    const { url, logs } = await startGateway();
    const socket = openClient(url, { ...STOCK_RECONNECTION, auth: { token: await signToken({}, { secret: 'a-wrong-secret-a-wrong-secret-xx' }) } });
    const seen = watchClient(socket);
    await waitFor(() => seen.connectErrors.length >= 1);
    const handshakesBefore = logs.filter((line) => line.includes('"handshake refused"')).length;
    await sleep(1000);
    expect(seen.connectErrors).toEqual(['TOKEN_INVALID']);
    expect(seen.attempts).toBe(0);
    expect(seen.connects).toBe(0);
    expect(socket.active).toBe(false);
    expect(logs.filter((line) => line.includes('"handshake refused"')).length).toBe(handshakesBefore);
  });
});
