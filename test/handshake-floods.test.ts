import { describe, expect, it } from 'vitest';
import { Manager, type Socket } from 'socket.io-client';
import { LogSampler } from '../src/runtime/log-sampler.js';
import { createLogger } from '../src/runtime/logger.js';
import { onCleanup } from './support/cleanup.js';
import {
  api, closeOf, connectClient, expectConnectError, expectRetryClose, openClient, signToken, startGateway, type ClientOptions,
} from './support/gateway.js';
import { serveIntrospection } from './support/http-receiver.js';
import { openRawSocket } from './support/raw-socket.js';
import { waitFor } from './support/wait.js';

const GOOD_TOKEN = 'good-introspected-token';

/** A gateway checking tokens at a real introspection endpoint that counts its calls: only GOOD_TOKEN is active. */
async function introspectingGateway(env: Record<string, string>) {
  const endpoint = await serveIntrospection((token) => ({
    body: token === GOOD_TOKEN ? { active: true, user_id: 'introspected', exp: Math.floor(Date.now() / 1000) + 600 } : { active: false },
  }));
  const gateway = await startGateway({ LOG_LEVEL: 'warn', JWT_SECRET: '', AUTH_STRATEGY: 'introspection', INTROSPECTION_URL: endpoint.url, ...env });
  return { ...gateway, checks: () => endpoint.received.length };
}

/** How a stock client's single attempt ends: connected, refused (`connect_error` code) or closed for a retry (close reason). */
function outcomeOf(url: string, options: ClientOptions): Promise<string> {
  const socket = openClient(url, options);
  return new Promise((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('connect_error', (error: Error & { data?: { code: string } }) => resolve(`connect_error ${error.data?.code ?? error.message}`));
    socket.once('disconnect', (_reason, description) => resolve(`closed ${closeOf(description).reason ?? ''}`));
  });
}

const register = (url: string, clientId: string) => api(url, '/client', { body: { clientId, payload: { id: clientId, subscriptions: ['completed'] } } });

describe('failed handshakes per connection (MAX_FAILED_HANDSHAKES_PER_CONNECTION)', () => {
  it('closes a connection sending 1,000 CONNECTs with bad tokens after the cap, having checked at most that many tokens', async () => {
    const { url, checks } = await introspectingGateway({ MAX_FAILED_HANDSHAKES_PER_CONNECTION: '5' });
    await register(url, 'shop');
    const raw = await openRawSocket(url);
    // To `/` and to a client namespace, without waiting for the answers, as fast as the socket writes.
    raw.send(Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? `40{"token":"bad-${i}"}` : `40/shop,{"token":"bad-${i}"}`)));

    expect(await raw.closed).toEqual({ code: 1013, reason: 'RATE_LIMITED' });
    expect(checks()).toBeGreaterThan(0);
    expect(checks()).toBeLessThanOrEqual(5);

    // A stock client refused once still gets its final connect_error; a good token still gets in.
    expect((await expectConnectError(url, { auth: { token: 'bad-stock' } })).data?.code).toBe('TOKEN_INVALID');
    expect((await connectClient(url, GOOD_TOKEN)).connected).toBe(true);
  });

  it('lets a stock client open more namespaces at once than the cap over one connection', async () => {
    const { url } = await startGateway({ LOG_LEVEL: 'warn', MAX_FAILED_HANDSHAKES_PER_CONNECTION: '2' });
    const clientIds = Array.from({ length: 8 }, (_, i) => `multi-${i}`);
    for (const clientId of clientIds) await register(url, clientId);
    const manager = new Manager(url, { transports: ['websocket'], reconnection: false });
    const token = await signToken({ user_id: 'ops', role: 'admin' });
    const sockets: Socket[] = ['/', ...clientIds.map((id) => `/${id}`)].map((name) => manager.socket(name, { auth: { token } }));
    onCleanup(() => { for (const socket of sockets) socket.close(); });
    const refusals: unknown[] = [];
    for (const socket of sockets) socket.on('connect_error', (error) => refusals.push(error)).connect();
    await waitFor(() => sockets.every((socket) => socket.connected), { what: 'every namespace to connect' });
    expect(refusals).toEqual([]);
  });
});

describe('failed handshakes per client address (FAILED_HANDSHAKES_PER_IP_PER_MIN)', () => {
  it('refuses an address past its budget with RATE_LIMITED before any check; other addresses still get in', async () => {
    const { url, checks } = await introspectingGateway({ FAILED_HANDSHAKES_PER_IP_PER_MIN: '3', TRUST_PROXY: 'loopback' });
    const from = (address: string, token: string): ClientOptions => ({ auth: { token }, extraHeaders: { 'x-forwarded-for': address } });

    // Stock clients one after the other from one address, each with a bad token: 3 are checked and refused,
    // then the address is told to retry later, unchecked — 20 more at once cost nothing either.
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) outcomes.push(await outcomeOf(url, from('203.0.113.7', `bad-${i}`)));
    expect(outcomes).toEqual(['connect_error TOKEN_INVALID', 'connect_error TOKEN_INVALID', 'connect_error TOKEN_INVALID', 'closed RATE_LIMITED', 'closed RATE_LIMITED']);
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => outcomeOf(url, from('203.0.113.7', `bad-burst-${i}`))));
    expect(burst.filter((outcome) => outcome === 'closed RATE_LIMITED')).toHaveLength(20);
    expect(checks()).toBe(3);

    // The whole address waits for its budget to refill, good tokens too; nothing more reaches the endpoint.
    expect(await expectRetryClose(url, from('203.0.113.7', GOOD_TOKEN))).toBe('RATE_LIMITED');
    expect(checks()).toBe(3);
    // Another address behind the same proxy has its own budget.
    expect((await connectClient(url, GOOD_TOKEN, { extraHeaders: { 'x-forwarded-for': '203.0.113.8' } })).connected).toBe(true);
    expect(checks()).toBe(4);
  });

  it('never refuses good clients for being many at once behind one address', async () => {
    const { url, checks } = await introspectingGateway({ FAILED_HANDSHAKES_PER_IP_PER_MIN: '3' });
    const clients = await Promise.all(Array.from({ length: 60 }, () => connectClient(url, GOOD_TOKEN)));
    expect(clients.filter((client) => client.connected)).toHaveLength(60);
    expect(checks()).toBeGreaterThanOrEqual(1);
  });
});

describe('logs under floods', () => {
  it('a socket flooding 2,000 events and a connection sending 1,000 bad CONNECTs write a handful of lines, with a count', async () => {
    const { url, logs } = await startGateway({ LOG_LEVEL: 'debug', LOG_SAMPLE_INTERVAL_MS: '300', MAX_FAILED_HANDSHAKES_PER_CONNECTION: '10' });
    const before = logs.length;
    const flooder = await openRawSocket(url);
    flooder.send([`40${JSON.stringify({ token: await signToken({ user_id: 'flooder' }) })}`]);
    await waitFor(() => flooder.frames.some((frame) => frame.startsWith('40{')));
    flooder.send(Array.from({ length: 2000 }, (_, i) => `42["room/join-room","r${i}"]`));
    const prober = await openRawSocket(url);
    prober.send(Array.from({ length: 1000 }, (_, i) => `40{"token":"bad-${i}"}`));
    await Promise.all([flooder.closed, prober.closed]);

    type Entry = { msg: string; suppressed?: number };
    const entries = () => logs.slice(before).map((line) => JSON.parse(line) as Entry);
    await waitFor(() => entries().some((entry) => entry.msg === 'handshake refused (repeated)'), { what: 'the summary line' });
    const written = entries();
    expect(written.length).toBeLessThanOrEqual(5);
    expect(written.filter((entry) => entry.msg === 'client flooding; disconnected')).toHaveLength(1);
    // The first refusal is written; the summary counts the other nine.
    expect(written.filter((entry) => entry.msg === 'handshake refused')).toHaveLength(1);
    expect(written.find((entry) => entry.msg === 'handshake refused (repeated)')?.suppressed).toBe(9);
    expect(written.filter((entry) => entry.msg.startsWith('too many failed handshakes on one connection'))).not.toHaveLength(0);
  });
});

describe('log sampler', () => {
  function sampled(maxGroups?: number) {
    const lines: { msg: string; address?: string; group?: string; suppressed?: number }[] = [];
    const logger = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const sampler = new LogSampler({ intervalMs: 60_000, ...(maxGroups === undefined ? {} : { maxGroups }) });
    onCleanup(() => sampler.flush());
    return { lines, sampler, refused: sampler.line(logger, 'info', 'refused') };
  }

  it('writes a line once per subject and once per group per window, then one summary per group with the count', () => {
    const { lines, sampler, refused } = sampled();
    const [first, second] = [{}, {}];
    for (let i = 0; i < 100; i += 1) refused.write(first, { address: 'a' });
    refused.write(second, { address: 'a' });
    refused.write(second, { address: 'b' });
    expect(lines.map((line) => [line.msg, line.address])).toEqual([['refused', 'a']]);
    sampler.flush();
    expect(lines.slice(1).map((line) => [line.msg, line.address, line.suppressed])).toEqual([['refused (repeated)', 'a', 100], ['refused (repeated)', 'b', 1]]);
    // A new window: the group may write again, but never for a subject that already has its line.
    refused.write(first, { address: 'a' });
    refused.write({}, { address: 'a' });
    expect(lines.slice(3).map((line) => [line.msg, line.address])).toEqual([['refused', 'a']]);
  });

  it('counts the groups past maxGroups together', () => {
    const { lines, sampler, refused } = sampled(2);
    for (let i = 0; i < 50; i += 1) refused.write(undefined, { address: `a${i}` });
    expect(lines).toHaveLength(2);
    sampler.flush();
    expect(lines.slice(2)).toEqual([expect.objectContaining({ msg: 'refused (repeated)', group: 'others', suppressed: 48 })]);
  });
});
