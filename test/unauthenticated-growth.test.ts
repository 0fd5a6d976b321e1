import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { namespaceTable } from '../src/realtime/namespace-table.js';
import { onCleanup } from './support/cleanup.js';
import { collectGarbage, heapAfterCollection } from './support/heap.js';
import { api, connectClient, openClient, signToken, startGateway } from './support/gateway.js';
import { startRedis } from './support/redis.js';
import { waitFor } from './support/wait.js';

const QUIET = { LOG_LEVEL: 'warn' };

/**
 * A raw Engine.IO v4 / Socket.IO v5 client over WebSocket, as an attacker writes one: it only sends
 * CONNECT packets (`40/{namespace},{}`, no token) and counts the CONNECT_ERROR answers.
 */
async function rawSocket(url: string): Promise<{ send(packets: readonly string[]): void; answers: string[] }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
  onCleanup(() => ws.close());
  const answers: string[] = [];
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('0')) resolve();
      else if (text === '2') ws.send('3');
      else answers.push(text);
    });
  });
  await opened;
  return { send: (packets) => { for (const packet of packets) ws.send(packet); }, answers };
}

/** A CONNECT_ERROR answer (`44{namespace},{json}`) as socket.io-client reads it: the namespace and `err.data.code`. */
function refusal(answer: string | undefined): { namespace: string; code: unknown } {
  const match = /^44([^,]*),(.*)$/s.exec(answer ?? '');
  if (match === null) throw new Error(`not a CONNECT_ERROR: ${answer}`);
  const body = JSON.parse(match[2]!) as { data?: { code?: unknown } };
  return { namespace: match[1]!, code: body.data?.code };
}

/** Sends `count` CONNECT packets for `name(i)` and waits for every answer. */
async function flood(client: Awaited<ReturnType<typeof rawSocket>>, count: number, name: (i: number) => string): Promise<void> {
  const first = client.answers.length;
  for (let i = 0; i < count; i += 1000) {
    client.send(Array.from({ length: Math.min(1000, count - i) }, (_, j) => `40${name(i + j)},{}`));
    await waitFor(() => client.answers.length - first >= i, { timeoutMs: 10_000 });
  }
  await waitFor(() => client.answers.length - first === count, { timeoutMs: 10_000 });
}

describe('no unauthenticated growth', () => {
  it('creates no namespace for CONNECTs to made-up client namespaces, and the heap stays flat over 2 × 20,000 of them', async () => {
    const { url, gateway } = await startGateway(QUIET);
    const created: string[] = [];
    gateway.io.on('new_namespace', (namespace) => created.push(namespace.name));
    const namespaces = namespaceTable(gateway.io).size;
    const client = await rawSocket(url);
    // Warm-up (code paths compiled, pools filled), then the baseline.
    await flood(client, 1000, (i) => `/warm-up-${i}`);
    const baseline = heapAfterCollection();

    await flood(client, 20_000, (i) => `/made-up-${i}`);
    const afterFirst = heapAfterCollection();
    await flood(client, 20_000, (i) => `/made-up-again-${i}`);
    const afterSecond = heapAfterCollection();

    // Every one was refused with the catalog code, as a stock client would read it in connect_error.data.
    expect(client.answers).toHaveLength(41_000);
    expect(refusal(client.answers.at(-1))).toEqual({ namespace: '/made-up-again-19999', code: 'UNKNOWN_CLIENT' });
    expect(created).toEqual([]);
    expect(namespaceTable(gateway.io).size).toBe(namespaces);
    // Before the fix each packet kept about 2.4 KB: 20,000 of them about 48 MB.
    expect(afterFirst - baseline).toBeLessThan(8 * 1024 * 1024);
    expect(afterSecond - baseline).toBeLessThan(8 * 1024 * 1024);
  }, 30_000);

  it('creates none on the Redis engine either (its adapters would also write to Redis for each new namespace)', async () => {
    const redis = await startRedis();
    const { url, gateway } = await startGateway({ ...QUIET, REDIS_URL: redis.url });
    const created: string[] = [];
    gateway.io.on('new_namespace', (namespace) => created.push(namespace.name));
    const namespaces = namespaceTable(gateway.io).size;
    const client = await rawSocket(url);
    await flood(client, 2 * 2000, (i) => `/made-up-${i}`);
    expect(refusal(client.answers.at(-1))).toEqual({ namespace: '/made-up-3999', code: 'UNKNOWN_CLIENT' });
    expect(created).toEqual([]);
    expect(namespaceTable(gateway.io).size).toBe(namespaces);
  }, 30_000);

  it('lets nothing outlive a refused CONNECT to a registered client, and nothing outlive a closed client namespace', async () => {
    // Thousands of refusals on one connection: the failed-handshake limits (test/handshake-floods.test.ts) would close it first.
    const { url, gateway } = await startGateway({ ...QUIET, MAX_FAILED_HANDSHAKES_PER_CONNECTION: '0', FAILED_HANDSHAKES_PER_IP_PER_MIN: '0' });
    expect((await api(url, '/client', { body: { clientId: 'shop', payload: { id: 'shop', name: 'Shop', subscriptions: ['completed'] } } })).status).toBe(200);
    const created: WeakRef<object>[] = [];
    gateway.io.on('new_namespace', (namespace) => created.push(new WeakRef(namespace.adapter)));
    const namespaces = namespaceTable(gateway.io).size;

    // No token: the registered client's namespace is created for the handshake, refused, and removed.
    const client = await rawSocket(url);
    await flood(client, 2000, (i) => (i % 2 === 0 ? '/shop' : '/shop/completed'));
    expect(refusal(client.answers.at(-1))).toEqual({ namespace: '/shop/completed', code: 'TOKEN_MISSING' });
    // A real client of the shop enters and leaves: its namespace closes with the last socket.
    const token = await signToken({ user_id: 'staff', clientId: 'shop' });
    for (let i = 0; i < 5; i += 1) {
      (await connectClient(`${url}/shop`, token)).disconnect();
      await waitFor(() => namespaceTable(gateway.io).size === namespaces);
    }

    expect(created.length).toBeGreaterThan(5);
    expect(namespaceTable(gateway.io).size).toBe(namespaces);
    // With connection-state recovery on (the default), each adapter's sweep timer kept it alive for good.
    await waitFor(() => {
      collectGarbage();
      return created.every((ref) => ref.deref() === undefined);
    }, { timeoutMs: 3000 });
  }, 30_000);

  it('caps Engine.IO sessions without an accepted socket per address: 20,000 polling handshakes hold 256, the rest are refused until those end', async () => {
    // The handshake rate (test/rate-limits.test.ts) would refuse most of them first: this is the session cap alone.
    const { url } = await startGateway({ ...QUIET, CONNECTIONS_PER_IP_PER_S: '0' });
    const baseline = heapAfterCollection();
    const { sids, refused, firstRefusal } = await pollingHandshakes(url, 20_000);
    // The default MAX_PENDING_HANDSHAKES_PER_IP; every other one a transient refusal at the Engine.IO level.
    expect(sids).toHaveLength(256);
    expect(refused).toBe(20_000 - 256);
    expect(firstRefusal).toEqual({ status: 403, body: { code: 4, message: 'TOO_MANY_PENDING_HANDSHAKES' } });
    // Before the cap, each such session held about 5 KB until its connect timeout: 20,000 of them about 100 MB.
    expect(heapAfterCollection() - baseline).toBeLessThan(8 * 1024 * 1024);

    // A stock client meets the cap, keeps retrying by itself, and gets in once the sessions are closed.
    const token = await signToken({ user_id: 'late' });
    const client = openClient(url, { auth: { token }, transports: ['polling'], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
    const connected = new Promise<void>((resolve) => client.once('connect', resolve));
    const errors: string[] = [];
    client.on('connect_error', (error) => errors.push(error.message));
    await waitFor(() => errors.length >= 2);
    expect(client.connected).toBe(false);
    await Promise.all(sids.map((sid) => closePolling(url, sid)));
    await connected;
    expect(errors.every((message) => message === 'xhr poll error')).toBe(true);
    // Its socket was accepted: its session left the count, and the address has every slot but none held back.
    expect(await pollingHandshakes(url, 256)).toMatchObject({ refused: 0 });
    expect(await pollingHandshakes(url, 1)).toMatchObject({ refused: 1, firstRefusal: { status: 403 } });
  }, 30_000);

  it('caps them for the whole node too, on both transports, and admits again as sessions close', async () => {
    const { url } = await startGateway({ ...QUIET, MAX_PENDING_HANDSHAKES_PER_IP: '0', MAX_PENDING_HANDSHAKES: '50' });
    const { sids, refused } = await pollingHandshakes(url, 200);
    expect(sids).toHaveLength(50);
    expect(refused).toBe(150);
    // A WebSocket handshake past the cap is refused too (400, the code as text).
    const refusedSocket = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const status = await new Promise<number | undefined>((resolve) => refusedSocket.once('unexpected-response', (_req, res) => resolve(res.statusCode)));
    expect(status).toBe(400);
    await closePolling(url, sids[0]!);
    expect(await pollingHandshakes(url, 2)).toMatchObject({ sids: [expect.any(String)], refused: 1 });
  }, 30_000);
});

interface Handshakes {
  /** The sessions opened. */
  readonly sids: string[];
  /** How many were refused, and the first refusal's status and body. */
  refused: number;
  firstRefusal?: { readonly status: number; readonly body: unknown };
}

/** `count` Engine.IO polling handshakes (`GET /socket.io/?EIO=4&transport=polling`), 64 at a time; none sends a CONNECT. */
async function pollingHandshakes(url: string, count: number): Promise<Handshakes> {
  const answers: Handshakes = { sids: [], refused: 0 };
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
      const text = await response.text();
      if (response.status === 200 && text.startsWith('0')) answers.sids.push((JSON.parse(text.slice(1)) as { sid: string }).sid);
      else {
        answers.refused += 1;
        answers.firstRefusal ??= { status: response.status, body: JSON.parse(text) as unknown };
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return answers;
}

/** Closes a polling session the way a client does: an Engine.IO close packet (`1`). */
async function closePolling(url: string, sid: string): Promise<void> {
  const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '1' });
  await response.text();
}
