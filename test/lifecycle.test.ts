import { describe, expect, it } from 'vitest';
import { api, expectConnectError, nextEvent, openClient, signToken, startGateway, TEST_API_KEY, TEST_JWT_SECRET } from './support/gateway.js';
import { spawnGateway } from './support/process.js';
import { waitFor } from './support/wait.js';

const ENV = { NODE_ENV: 'production', API_KEYS: TEST_API_KEY, JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'info' };

describe('graceful shutdown on SIGTERM', () => {
  it('turns /readyz 503 at once, refuses new handshakes, closes clients so they reconnect, and exits 0', async () => {
    const first = spawnGateway({ ...ENV, SHUTDOWN_DELAY_MS: '1000' });
    const url = await first.listening();
    expect((await api(url, '/readyz', { key: null })).status).toBe(200);

    const clients = await Promise.all(
      ['u1', 'u2', 'u3'].map(async (user) => {
        const socket = openClient(url, { auth: { token: await signToken({ user_id: user }) }, reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 300 });
        await nextEvent(socket, 'connect');
        return socket;
      }),
    );
    const disconnects = clients.map((socket) => nextEvent<[string]>(socket, 'disconnect', 5000));

    first.child.kill('SIGTERM');
    await waitFor(async () => (await api(url, '/readyz', { key: null })).status === 503, { timeoutMs: 3000, what: '/readyz 503' });
    const readiness = await api<{ phase: string }>(url, '/readyz', { key: null });
    expect(readiness.body.phase).toBe('draining');
    // While draining, publishes are still served and connected clients still receive them.
    const delivered = nextEvent(clients[0]!, 'still:here');
    expect((await api(url, '/v1/publish', { body: { event: 'still:here', users: ['u1'] } })).status).toBe(200);
    await delivered;
    // New handshakes are refused at the transport level, so stock clients keep retrying.
    const refusal = await expectConnectError(url, { auth: { token: await signToken() } });
    expect(refusal.data).toBeUndefined();

    const reasons = await Promise.all(disconnects);
    expect(reasons.map(([reason]) => reason)).toEqual(['transport close', 'transport close', 'transport close']);
    expect(await first.exited()).toBe(0);

    // A node on the same address: every client reconnects by itself.
    const port = new URL(url).port;
    const reconnected = clients.map((socket) => nextEvent(socket, 'connect', 10_000));
    const second = spawnGateway({ ...ENV, PORT: port });
    await second.listening();
    await Promise.all(reconnected);
    expect(clients.every((socket) => socket.connected)).toBe(true);
  });

  it('answers HTTP requests that reach a closing node with 503 SHUTTING_DOWN and Retry-After', async () => {
    const { url, gateway } = await startGateway();
    gateway.lifecycle.enter('closing');
    const response = await api(url, '/v1/publish', { body: { event: 'late', broadcast: true } });
    expect(response).toMatchObject({ status: 503, body: { error: { code: 'SHUTTING_DOWN' } } });
    // Transient: the catalog's retry hint tells a client (or a load balancer) when to try again.
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it('exits 0 promptly with no clients', async () => {
    const gateway = spawnGateway(ENV);
    await gateway.listening();
    gateway.child.kill('SIGINT');
    expect(await gateway.exited()).toBe(0);
    expect(gateway.output()).toContain('"msg":"stopped"');
  });
});
