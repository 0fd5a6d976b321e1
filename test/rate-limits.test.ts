import type { IncomingMessage } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { api, connectAs, expectRetryClose, nextEvent, openClient, signToken, startGateway, TEST_API_KEY, type ErrorResponse } from './support/gateway.js';
import { clientAddressResolver } from '../src/runtime/client-address.js';
import { onCleanup } from './support/cleanup.js';
import { startRedis } from './support/redis.js';
import { unique } from './support/temp.js';
import { sleep, waitFor } from './support/wait.js';

const QUIET = { LOG_LEVEL: 'warn' };

/** Opens one long-polling Engine.IO session the raw way; answers its status and body. */
async function pollingHandshake(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers });
  return { status: response.status, body: await response.text() };
}

/** Opens `count` polling sessions one after the other; answers how many were accepted and the first refusal. */
async function pollingHandshakes(url: string, count: number, headers: Record<string, string> = {}) {
  let accepted = 0;
  let firstRefusal: { status: number; body: unknown } | undefined;
  for (let i = 0; i < count; i += 1) {
    const { status, body } = await pollingHandshake(url, headers);
    if (status === 200) accepted += 1;
    else firstRefusal ??= { status, body: JSON.parse(body) as unknown };
  }
  return { accepted, refused: count - accepted, firstRefusal };
}

/** A stock client with default-style reconnection (fast), recording its connect errors. */
function retryingClient(url: string, token: string, transports: string[] = ['websocket']): { socket: Socket; errors: string[]; connected: Promise<void> } {
  const socket = openClient(url, { auth: { token }, transports, reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
  const errors: string[] = [];
  socket.on('connect_error', (error: Error & { data?: { code: string } }) => errors.push(error.data?.code ?? error.message));
  const connected = new Promise<void>((resolve) => socket.once('connect', resolve));
  return { socket, errors, connected };
}

describe('handshake rate per client address', () => {
  it('refuses handshakes past the burst as RATE_LIMITED (transient), and a stock client gets in once tokens refill', async () => {
    const { url } = await startGateway({ ...QUIET, CONNECTIONS_PER_IP_PER_S: '2', CONNECTIONS_BURST: '5' });
    const flood = await pollingHandshakes(url, 12);
    expect(flood.accepted).toBe(5);
    expect(flood.firstRefusal).toEqual({ status: 403, body: { code: 4, message: 'RATE_LIMITED' } });

    // A stock client meets the limit as a transport error, retries by itself, and is in within a refill or two.
    const started = Date.now();
    const client = retryingClient(url, await signToken(), ['polling']);
    await client.connected;
    expect(client.socket.connected).toBe(true);
    expect(client.errors.every((message) => message === 'xhr poll error')).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('counts per address as TRUST_PROXY names it (X-Forwarded-For only from a trusted proxy)', async () => {
    const proxied = await startGateway({ ...QUIET, CONNECTIONS_PER_IP_PER_S: '1', CONNECTIONS_BURST: '3', TRUST_PROXY: 'loopback' });
    expect((await pollingHandshakes(proxied.url, 5, { 'x-forwarded-for': '203.0.113.7' })).accepted).toBe(3);
    // Another client behind the same proxy has a bucket of its own.
    expect((await pollingHandshakes(proxied.url, 3, { 'x-forwarded-for': '203.0.113.8' })).accepted).toBe(3);

    // Without TRUST_PROXY the header is ignored: every request is the TCP peer's, one bucket.
    const direct = await startGateway({ ...QUIET, CONNECTIONS_PER_IP_PER_S: '1', CONNECTIONS_BURST: '3' });
    expect((await pollingHandshakes(direct.url, 3, { 'x-forwarded-for': '203.0.113.7' })).accepted).toBe(3);
    expect((await pollingHandshakes(direct.url, 3, { 'x-forwarded-for': '203.0.113.8' })).accepted).toBe(0);
  });

  it('is off with CONNECTIONS_PER_IP_PER_S=0', async () => {
    const { url } = await startGateway({ ...QUIET, CONNECTIONS_PER_IP_PER_S: '0', CONNECTIONS_BURST: '1' });
    expect((await pollingHandshakes(url, 50)).accepted).toBe(50);
  });
});

describe('open connections per client address and per user', () => {
  it('refuses a connection past MAX_CONNECTIONS_PER_IP as RATE_LIMITED (transient); the client gets in when one closes', async () => {
    const { url } = await startGateway({ ...QUIET, MAX_CONNECTIONS_PER_IP: '3' });
    const open = await Promise.all([1, 2, 3].map((i) => connectAs(url, `ip-user-${i}`, unique('s'))));
    expect((await pollingHandshake(url)).body).toBe(JSON.stringify({ code: 4, message: 'RATE_LIMITED' }));

    const late = retryingClient(url, await signToken({ user_id: 'ip-late' }));
    await waitFor(() => late.errors.length >= 2);
    expect(late.socket.connected).toBe(false);
    expect(late.errors.every((message) => message === 'websocket error')).toBe(true);
    open[0]!.close();
    await late.connected;
    expect(late.socket.connected).toBe(true);
  });

  it('refuses a user past MAX_CONNECTIONS_PER_USER with a retry close (RATE_LIMITED); other users are not affected', async () => {
    const { url } = await startGateway({ ...QUIET, MAX_CONNECTIONS_PER_USER: '2' });
    const first = await connectAs(url, 'capped', unique('s'));
    await connectAs(url, 'capped', unique('s'));
    const token = await signToken({ user_id: 'capped' });
    expect(await expectRetryClose(url, { auth: { token } })).toBe('RATE_LIMITED');
    await connectAs(url, 'someone-else', unique('s'));

    // A stock client of that user keeps retrying by itself and is in once one of the user's sockets closes.
    const third = retryingClient(url, token);
    await sleep(500);
    expect(third.socket.connected).toBe(false);
    expect(third.errors).toEqual([]); // a closed transport, not a connect_error: the client retries
    first.close();
    await third.connected;
    expect(third.socket.connected).toBe(true);
  });

  it('holds MAX_CONNECTIONS_PER_USER against simultaneous handshakes', async () => {
    const { url } = await startGateway({ ...QUIET, MAX_CONNECTIONS_PER_USER: '5' });
    const token = await signToken({ user_id: 'burst' });
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => new Promise<string>((resolve) => {
      const socket = openClient(url, { auth: { token } });
      socket.once('connect', () => resolve('connected'));
      socket.once('disconnect', () => resolve('closed'));
      socket.once('connect_error', () => resolve('error'));
    })));
    expect(outcomes.filter((outcome) => outcome === 'connected')).toHaveLength(5);
    expect(outcomes.filter((outcome) => outcome === 'closed')).toHaveLength(15);
  });

  it('counts a socket restored by connection-state recovery (which skips the handshake) toward MAX_CONNECTIONS_PER_USER', async () => {
    const { url } = await startGateway({ ...QUIET, MAX_CONNECTIONS_PER_USER: '1' });
    const blip = await connectAs(url, 'recovering', unique('s'), { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    const back = nextEvent(blip, 'connect');
    blip.io.engine.close();
    await back;
    expect(blip.recovered).toBe(true);
    expect(await expectRetryClose(url, { auth: { token: await signToken({ user_id: 'recovering' }) } })).toBe('RATE_LIMITED');
  });
});

describe('HTTP rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After past HTTP_RATE_LIMIT_PER_S, per key, never on the probes', async () => {
    const second = 'second-api-key-77a1';
    const { url } = await startGateway({ ...QUIET, HTTP_RATE_LIMIT_PER_S: '3', API_KEYS: `${TEST_API_KEY},${second}` });
    const publish = (key?: string) => api<ErrorResponse>(url, '/v1/publish', { body: { event: 'tick', rooms: ['r'] }, ...(key === undefined ? {} : { key }) });
    for (let i = 0; i < 3; i += 1) expect((await publish()).status).toBe(200);
    const refused = await publish();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String) as string, retryAfterS: 1 } });
    // Another key has its own budget; probes are never limited.
    expect((await publish(second)).status).toBe(200);
    for (let i = 0; i < 10; i += 1) expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // Once the window has passed, the first key publishes again.
    await sleep(1100);
    expect((await publish()).status).toBe(200);
  });

  it('counts requests without a credential per client address', async () => {
    const { url } = await startGateway({ ...QUIET, HTTP_RATE_LIMIT_PER_S: '2', TRUST_PROXY: '1' });
    const anonymous = (address: string) => api(url, '/v1/publish', { key: null, body: {}, headers: { 'x-forwarded-for': address } });
    expect((await anonymous('198.51.100.1')).status).toBe(401);
    expect((await anonymous('198.51.100.1')).status).toBe(401);
    expect((await anonymous('198.51.100.1')).status).toBe(429);
    expect((await anonymous('198.51.100.2')).status).toBe(401);
  });

  it('is shared by the nodes of one Redis', async () => {
    const redis = await startRedis();
    const env = { ...QUIET, HTTP_RATE_LIMIT_PER_S: '4', REDIS_URL: redis.url, REDIS_DATA_PREFIX: `${unique('sbtest')}:` };
    const [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
    const publish = (url: string) => api(url, '/v1/publish', { body: { event: 'tick', rooms: ['r'] } });
    const statuses = [];
    for (const url of [a.url, b.url, a.url, b.url, a.url, b.url]) statuses.push((await publish(url)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });
});

describe('HTTP request timeout', () => {
  it('cuts off a request whose body trickles in (a byte at a time) after HTTP_REQUEST_TIMEOUT_MS', async () => {
    const { url } = await startGateway({ ...QUIET, HTTP_REQUEST_TIMEOUT_MS: '1000' });
    const { hostname, port } = new URL(url);
    const socket = connectTcp(Number(port), hostname);
    onCleanup(() => void socket.destroy());
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(`POST /v1/publish HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${TEST_API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 102400\r\n\r\n`);
    let answer = '';
    socket.on('data', (chunk: Buffer) => { answer += chunk.toString(); });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const started = Date.now();
    const trickle = setInterval(() => { if (!socket.destroyed) socket.write('{'); }, 200);
    await closed;
    clearInterval(trickle);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(3000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });
});

describe('client address of a request', () => {
  const request = (peer: string, forwardedFor?: string) =>
    ({ socket: { remoteAddress: peer }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

  it('is the TCP peer without TRUST_PROXY, and the first untrusted X-Forwarded-For hop with it', () => {
    expect(clientAddressResolver(false)(request('::ffff:10.0.0.5', '203.0.113.9'))).toBe('10.0.0.5');
    expect(clientAddressResolver(true)(request('10.0.0.5', '203.0.113.9, 10.0.0.9'))).toBe('203.0.113.9');
    // A hop count trusts that many proxies: the client cannot push a made-up address past them.
    expect(clientAddressResolver(1)(request('10.0.0.5', '198.51.100.66, 203.0.113.9'))).toBe('203.0.113.9');
    expect(clientAddressResolver(2)(request('10.0.0.5', '198.51.100.66, 203.0.113.9'))).toBe('198.51.100.66');
    // A list trusts those addresses and CIDRs (and named ranges) only.
    const listed = clientAddressResolver(['10.0.0.0/8', 'fd00::/8']);
    expect(listed(request('10.1.2.3', '203.0.113.9'))).toBe('203.0.113.9');
    expect(listed(request('fd00::1', '203.0.113.9'))).toBe('203.0.113.9');
    expect(listed(request('192.0.2.1', '203.0.113.9'))).toBe('192.0.2.1');
    expect(listed(request('10.1.2.3', '203.0.113.9, 10.9.9.9'))).toBe('203.0.113.9');
  });
});
