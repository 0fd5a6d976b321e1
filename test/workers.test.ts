import { spawnSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket as NetSocket } from 'node:net';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { FIRST_RESTART_PAUSE_MS, MAX_RESTART_PAUSE_MS, restartPause, STABLE_AFTER_MS } from '../src/runtime/restart-backoff.js';
import { stopReading } from '../src/runtime/worker-pool.js';
import { api, flush, nextEvent, openClient, recordEvents, signToken, TEST_API_KEY } from './support/gateway.js';
import { deliveries, publish, roomSize } from './support/cluster-checks.js';
import { CLUSTER_ENV, spawnGateway, spawnSharedGateway, type GatewayProcess, type SharedGatewayProcess } from './support/process.js';
import { startRedis, type TestRedis } from './support/redis.js';
import { unique } from './support/temp.js';
import { onCleanup } from './support/cleanup.js';
import { waitFor } from './support/wait.js';

/**
 * WORKERS: one gateway process per core on one port, a primary handing connections to its workers
 * (`@socket.io/sticky`), each worker a node of the Redis cluster. Stock clients over long-polling and
 * WebSocket, publishes over HTTP landing on any worker, presence across workers, a killed worker replaced
 * and its clients recovered, a drain on SIGTERM, and the refusal without Redis.
 */
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis({ cleanup: 'manual' });
});
afterAll(async () => {
  await redis.kill();
});

const workersEnv = () => ({ ...CLUSTER_ENV, WORKERS: '2', REDIS_URL: redis.url, REDIS_DATA_PREFIX: `${unique('workers')}:`, PUBLIC_ROOMS: '*' });

/** Open sockets per node id (one per worker), summed over namespaces and transports (or of one `transport`), from `/metrics`. */
async function connectionsPerNode(url: string, transport?: 'polling' | 'websocket'): Promise<Map<string, number>> {
  const { status, text } = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } }).then(async (r) => ({ status: r.status, text: await r.text() }));
  expect(status).toBe(200);
  const perNode = new Map<string, number>();
  for (const [, labels = '', value = '0'] of text.matchAll(/^switchboard_connections\{([^}]*)\} (\d+)$/gm)) {
    const node = /node="([^"]+)"/.exec(labels)?.[1] ?? '?';
    if (transport !== undefined && !labels.includes(`transport="${transport}"`)) continue;
    perNode.set(node, (perNode.get(node) ?? 0) + Number(value));
  }
  return perNode;
}

/** One `POST /v1/publish` with node:http (a backend's client: no Origin, no Cookie, no Sec-Fetch-*, unless `headers` adds them). */
function postPublish(url: string, body: Record<string, unknown>, options: { agent?: Agent; headers?: Record<string, string> } = {}) {
  const payload = JSON.stringify(body);
  return new Promise<{ status: number; connection: string | undefined; socket: NetSocket }>((resolve, reject) => {
    const sent = request(`${url}/v1/publish`, {
      method: 'POST', agent: options.agent,
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...options.headers },
    }, (response) => {
      response.resume();
      response.once('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, socket: sent.socket as NetSocket }));
    });
    sent.once('error', reject);
    sent.end(payload);
  });
}

/** The process ids of the workers the primary reported ready, in order. */
function readyWorkerPids(output: string): number[] {
  return [...output.matchAll(/"pid":(\d+),"msg":"worker ready"/g)].map((match) => Number(match[1]));
}

/** The process ids of the primary's Node.js children: its workers, starting or not (not tsx's esbuild service). */
function workerPids(gateway: GatewayProcess): number[] {
  const out = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(gateway.child.pid)], { encoding: 'utf8' }).stdout;
  return out.split('\n').map((line) => line.trim().split(/\s+/)).filter(([, command]) => command === 'node').map(([pid]) => Number(pid));
}

/** A stock client of a fresh user over `transport` only, reconnecting after `reconnectionDelay`; resolves once connected. */
async function connectUser(url: string, transport: 'polling' | 'websocket', reconnectionDelay = 300): Promise<{ socket: Socket; user: string }> {
  const user = unique(transport);
  const socket = openClient(url, {
    auth: { token: await signToken({ user_id: user, session_id: unique('s') }) },
    transports: [transport],
    reconnection: true,
    reconnectionDelay,
    reconnectionDelayMax: reconnectionDelay,
  });
  await nextEvent(socket, 'connect', 5000);
  return { socket, user };
}

describe('WORKERS=2 on one Redis', () => {
  let gateway: SharedGatewayProcess;
  let url: string;
  beforeAll(async () => {
    gateway = spawnSharedGateway(workersEnv());
    url = await gateway.listening(20_000);
  });
  afterAll(async () => {
    await gateway.kill();
  });
  afterEach((context) => {
    if (context.task.result?.state === 'fail') console.log(gateway.output().split('\n').filter((l) => !l.includes('Client SDK')).slice(-40).map((l) => l.slice(0, 300)).join('\n'));
  });

  it('starts two workers under one primary, each a node of the Redis engine, and the node is ready', async () => {
    expect(readyWorkerPids(gateway.output())).toHaveLength(2);
    expect(gateway.output()).toMatch(/"port":\d+,"workers":2,"msg":"gateway listening"/);
    const stats = await api<{ node: { engine: string } }>(url, '/v1/stats');
    expect(stats.body.node.engine).toBe('redis');
    const ready = await api<{ status: string }>(url, '/readyz', { key: null });
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('spreads long-polling and WebSocket clients over both workers; each gets every publish over HTTP once, and sees presence across workers', async () => {
    const watcher = await connectUser(url, 'websocket');
    await watcher.socket.emitWithAck('room/join-room', 'standup');
    const presence = recordEvents(watcher.socket);
    const clients: { socket: Socket; user: string }[] = [];
    for (const transport of ['websocket', 'polling', 'websocket', 'polling', 'websocket', 'polling'] as const) clients.push(await connectUser(url, transport));
    const sessions = clients.map(({ socket }) => socket.io.engine.id);
    const drops: string[] = [];
    for (const { socket } of clients) for (const event of ['disconnect', 'connect_error'] as const) socket.on(event, () => drops.push(event));
    for (const { socket } of clients) expect(await socket.emitWithAck('room/join-room', 'standup')).toMatchObject({ ok: true });

    // Both workers hold sockets (so the watcher's room has members on the other worker), 7 in all.
    const perNode = await waitFor(async () => {
      const counts = await connectionsPerNode(url);
      expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(7);
      return counts;
    });
    expect(perNode.size).toBe(2);
    expect([...perNode.values()].every((count) => count > 0)).toBe(true);
    // The long-polling sessions (least-connection put them with the watcher) are on the worker with more
    // sockets, where a request without `sid` would not go: their requests reached it by `sid`, each client
    // still on its first Engine.IO session, never dropped.
    const polling = await connectionsPerNode(url, 'polling');
    const [pollingNode, otherNode] = [...perNode.keys()].sort((a, b) => (polling.get(b) ?? 0) - (polling.get(a) ?? 0));
    expect(polling.get(pollingNode!)).toBe(3);
    expect(perNode.get(pollingNode!)).toBeGreaterThan(perNode.get(otherNode!) ?? 0);
    expect(clients.map(({ socket }) => socket.io.engine.id)).toEqual(sessions);
    expect(drops).toEqual([]);

    // Presence across workers: the watcher sees every member join, and every worker counts the room whole.
    await waitFor(() => expect(presence.filter((e) => e.event === 'room/user-connected').map((e) => (e.args[0] as { userId: string }).userId).sort())
      .toEqual(clients.map((c) => c.user).sort()));
    for (let i = 0; i < 4; i++) await waitFor(async () => expect(await roomSize(url, 'standup')).toBe(7));

    // Publishes over HTTP (each request may land on either worker): to the room, and to each user.
    const everyone = [watcher, ...clients];
    const got = everyone.map(({ socket }) => deliveries(socket, 'news'));
    for (let i = 0; i < 4; i++) await publish(url, { event: 'news', data: i, rooms: ['standup'] });
    for (const { user } of everyone) await publish(url, { event: 'news', data: `for ${user}`, users: [user] });
    await flush(url, ...everyone.map((c) => c.socket));
    everyone.forEach(({ user }, i) => expect(got[i]?.map((d) => d.data)).toEqual([0, 1, 2, 3, `for ${user}`]));
  });

  it('sends every request of an admin dashboard to the worker holding its session (its cookie pins it, as `sid` pins long-polling)', async () => {
    const signIn = await fetch(`${url}/admin/api/session`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ credential: TEST_API_KEY }),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie')?.split(';')[0] ?? '';
    expect(cookie).toMatch(/^switchboard_admin_sid=/);
    // A request without a session id goes to the worker with the fewest connections; each client connected
    // changes which one that is. Without the pin, some of these would reach the worker without the session.
    for (let i = 0; i < 4; i++) {
      await connectUser(url, 'websocket');
      for (let j = 0; j < 3; j++) expect((await fetch(`${url}/admin/api/session`, { headers: { cookie } })).status).toBe(200);
    }
    const signOut = await fetch(`${url}/admin/api/session`, { method: 'DELETE', headers: { cookie, origin: url } });
    expect(signOut.status).toBe(204);
    // Signed out on the worker holding the session (else it would still be there, and pinned): refused on
    // both workers now, as the one with the fewest connections changes with each client connected.
    for (let i = 0; i < 4; i++) {
      await connectUser(url, 'websocket');
      expect((await fetch(`${url}/admin/api/session`, { headers: { cookie } })).status).toBe(401);
    }
  });

  it("hands a backend's keep-alive connection to one worker whole: 200 publishes over one socket, none closing it, all delivered", async () => {
    const { socket, user } = await connectUser(url, 'websocket');
    const got = deliveries(socket, 'news');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    onCleanup(() => agent.destroy());
    const sockets = new Set<NetSocket>();
    for (let i = 0; i < 200; i++) {
      const answer = await postPublish(url, { event: 'news', data: i, users: [user] }, { agent });
      expect(answer.status).toBe(200);
      expect(answer.connection).not.toBe('close');
      sockets.add(answer.socket);
    }
    expect(sockets.size).toBe(1);
    await flush(url, socket);
    await waitFor(() => expect(got.map((d) => d.data)).toEqual([...Array(200).keys()]));
  });

  it('answers a publish whose body arrives in two TCP writes 200 ms apart, and the next request on that connection', async () => {
    const { port } = new URL(url);
    const client = connect(Number(port), '127.0.0.1');
    onCleanup(() => void client.destroy());
    let received = '';
    client.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const body = JSON.stringify({ event: 'news', data: 'split', broadcast: true });
    const head = (length: number) => `POST /v1/publish HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${TEST_API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
    client.write(head(body.length) + body.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 200));
    client.write(body.slice(10));
    await waitFor(() => expect(received).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\n\{"id":"[^"]+"/));
    expect(received).not.toMatch(/connection: close/i);
    client.write(head(body.length) + body);
    await waitFor(() => expect(received.match(/HTTP\/1\.1 200 /g)).toHaveLength(2));
  });

  it('keeps a browser\'s or a proxy\'s request (Origin, Cookie, Sec-Fetch-*, X-Forwarded-For, Via) on sticky\'s path, its connection closed after it', async () => {
    const browsers: Record<string, string>[] = [
      { origin: url }, { cookie: 'a=b' }, { 'sec-fetch-mode': 'cors' }, { 'sec-fetch-site': 'same-origin' },
      // A load balancer may reuse its connection to the gateway for browsers' long-polling of any worker.
      { 'x-forwarded-for': '10.0.0.1' }, { via: '1.1 lb' },
    ];
    for (const headers of browsers) {
      const answer = await postPublish(url, { event: 'news', data: 'browser', broadcast: true }, { headers });
      expect(answer).toMatchObject({ status: 200, connection: 'close' });
    }
  });
});

describe('WORKERS=2 behind a proxy (TRUST_PROXY)', () => {
  it("hands no connection whole: a proxy may reuse one for any client's requests, so every request goes through sticky", async () => {
    const gateway = spawnSharedGateway({ ...workersEnv(), TRUST_PROXY: 'true' });
    onCleanup(() => gateway.kill());
    const url = await gateway.listening(20_000);
    const answer = await postPublish(url, { event: 'news', data: 'behind a proxy', broadcast: true });
    expect(answer).toMatchObject({ status: 200, connection: 'close' });
  });
});

describe('WORKERS=2: a worker dies', () => {
  it('replaces a SIGKILLed worker; its clients come back on a live one and recover what was published meanwhile', async () => {
    const gateway = spawnGateway(workersEnv());
    const url = await gateway.listening(20_000);
    // Least-connection: the first and third go to one worker, the others to the other, so each has both transports.
    // The dead worker's clients stay away for a second, long enough for the publishes to happen meanwhile.
    const clients: { socket: Socket; user: string }[] = [];
    for (const transport of ['polling', 'websocket', 'websocket', 'polling'] as const) clients.push(await connectUser(url, transport, 1000));
    const before = await waitFor(async () => {
      const counts = await connectionsPerNode(url);
      expect([...counts.values()]).toEqual([2, 2]);
      return counts;
    });
    const got = clients.map(({ socket }) => deliveries(socket, 'news'));
    const connectErrors: unknown[] = [];
    for (const { socket } of clients) socket.on('connect_error', (error) => connectErrors.push(error));
    const disconnects = clients.map(() => 0);
    clients.forEach(({ socket }, i) => socket.on('disconnect', () => (disconnects[i] = (disconnects[i] ?? 0) + 1)));
    await publish(url, { event: 'news', data: 0, broadcast: true });
    await waitFor(() => expect(got.every((g) => g.length === 1)).toBe(true));

    const [victim] = readyWorkerPids(gateway.output());
    process.kill(victim!, 'SIGKILL');
    await waitFor(() => gateway.output().includes('"signal":"SIGKILL","msg":"worker exited, starting another"'), { what: 'the primary to see the worker die' });
    for (let i = 1; i <= 3; i++) await publish(url, { event: 'news', data: i, broadcast: true });

    // The two clients of the dead worker dropped and came back recovered; every client has every message once.
    await waitFor(() => expect(disconnects.filter((n) => n > 0)).toHaveLength(2), { timeoutMs: 10_000 });
    const dropped = clients.filter((_, i) => (disconnects[i] ?? 0) > 0);
    expect(dropped.map(({ socket }) => socket.io.opts.transports?.[0]).sort()).toEqual(['polling', 'websocket']);
    await waitFor(() => expect(clients.every(({ socket }) => socket.connected)).toBe(true), { timeoutMs: 10_000 });
    await flush(url, ...clients.map((c) => c.socket));
    for (const g of got) expect(g.map((d) => d.data)).toEqual([0, 1, 2, 3]);
    for (const { socket } of dropped) expect(socket.recovered).toBe(true);
    expect(connectErrors).toEqual([]);

    // A new worker took the dead one's place: two nodes again, one of them new.
    await waitFor(() => readyWorkerPids(gateway.output()).length === 3, { timeoutMs: 10_000, what: 'a replacement worker' });
    const after = await connectionsPerNode(url);
    expect(after.size).toBe(2);
    expect([...after.keys()].filter((node) => !before.has(node))).toHaveLength(1);
    expect(await api(url, '/readyz', { key: null })).toMatchObject({ status: 200 });
  }, 60_000);
});

describe('WORKERS=2: a replacement starting', () => {
  it('gets no new connection while it starts: requests go to the live worker, which has clients, not to the replacement that has none', async () => {
    const gateway = spawnGateway(workersEnv());
    const url = await gateway.listening(20_000);
    for (let i = 0; i < 2; i++) await connectUser(url, 'websocket');
    const nodes = await waitFor(async () => {
      const counts = await connectionsPerNode(url);
      expect([...counts.values()]).toEqual([1, 1]);
      return new Set(counts.keys());
    });
    const [victim] = readyWorkerPids(gateway.output());
    process.kill(victim!, 'SIGKILL');
    await waitFor(() => gateway.output().includes('"msg":"worker exited, starting another"'), { what: 'the primary to see the worker die' });
    // The replacement, held stopped before it attaches: whatever the primary gave it would wait there. Every
    // request is answered by the survivor (a node of before) that has clients, none by the replacement that has none.
    const replacement = await waitFor(() => workerPids(gateway).find((pid) => !readyWorkerPids(gateway.output()).includes(pid)) ?? false, { what: 'the replacement to be forked' });
    process.kill(replacement, 'SIGSTOP');
    try {
      for (let i = 0; i < 4; i++) {
        const stats = await fetch(`${url}/v1/stats`, { headers: { authorization: `Bearer ${TEST_API_KEY}` }, signal: AbortSignal.timeout(5000) });
        expect(stats.status).toBe(200);
        expect(nodes.has(((await stats.json()) as { node: { id: string } }).node.id)).toBe(true);
      }
    } finally {
      process.kill(replacement, 'SIGCONT');
    }
    await waitFor(() => readyWorkerPids(gateway.output()).length === 3, { timeoutMs: 15_000, what: 'the replacement to be ready' });
  }, 30_000);
});

describe('WORKERS=2: workers die holding connections', () => {
  it('closes a connection handed to a worker that died before it took it, and one whose request (with a body) it was relayed and did not answer; starts both again', async () => {
    const gateway = spawnGateway(workersEnv());
    const url = await gateway.listening(20_000);
    const workers = workerPids(gateway);
    expect(workers).toHaveLength(2);
    // Stopped, the workers take nothing: a GET (handed over by sticky) and a backend's publish (node:http,
    // handed over whole) are sent to them and never taken; a publish with a browser's headers (fetch's
    // Sec-Fetch-Mode: its body relayed by the primary, which keeps the connection) is never answered.
    for (const pid of workers) process.kill(pid, 'SIGSTOP');
    const probe = fetch(`${url}/readyz`, { signal: AbortSignal.timeout(8000) });
    const published = fetch(`${url}/v1/publish`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'news', data: 1, broadcast: true }), signal: AbortSignal.timeout(8000),
    });
    const whole = postPublish(url, { event: 'news', data: 1, broadcast: true }).then(() => 'answered', (error: Error) => error.message);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const pid of workers) process.kill(pid, 'SIGKILL');
    // Closed when their worker died (the request fails at once), not left open in the primary until the client gives up.
    for (const outcome of await Promise.allSettled([probe, published])) expect(outcome).toMatchObject({ status: 'rejected', reason: { message: 'fetch failed' } });
    expect(await whole).toMatch(/socket hang up|ECONNRESET/);
    await waitFor(() => readyWorkerPids(gateway.output()).length === 4, { timeoutMs: 20_000, what: 'two new workers' });
    expect(await api(url, '/readyz', { key: null })).toMatchObject({ status: 200 });
  }, 40_000);
});

describe('WORKERS=2: a worker stops answering', () => {
  it('closes a relayed request (with a body) after HTTP_REQUEST_TIMEOUT_MS idle in the primary, so its client is not left hanging', async () => {
    const gateway = spawnGateway({ ...workersEnv(), HTTP_REQUEST_TIMEOUT_MS: '1000' });
    const url = await gateway.listening(20_000);
    const workers = workerPids(gateway);
    for (const pid of workers) process.kill(pid, 'SIGSTOP');
    try {
      const published = fetch(`${url}/v1/publish`, {
        method: 'POST', headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ event: 'news', data: 1, broadcast: true }), signal: AbortSignal.timeout(8000),
      });
      await expect(published).rejects.toThrow(/fetch failed/);
    } finally {
      for (const pid of workers) process.kill(pid, 'SIGCONT');
    }
    expect(await api(url, '/readyz', { key: null })).toMatchObject({ status: 200 });
  }, 30_000);
});

describe('WORKERS=2: stopping', () => {
  it('SIGTERM to the primary drains every worker (clients told to reconnect elsewhere) and exits 0', async () => {
    const gateway = spawnGateway(workersEnv());
    const url = await gateway.listening(20_000);
    const clients = [await connectUser(url, 'websocket'), await connectUser(url, 'polling'), await connectUser(url, 'websocket')];
    await waitFor(async () => expect([...(await connectionsPerNode(url)).values()].sort()).toEqual([1, 2]));
    for (const { socket } of clients) socket.io.reconnection(false);
    const dropped = clients.map(({ socket }) => nextEvent<[string]>(socket, 'disconnect', 10_000));
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited()).toBe(0);
    for (const reason of await Promise.all(dropped)) expect(reason[0]).toMatch(/^transport (close|error)$/);
    const output = gateway.output();
    expect(output.match(/"msg":"draining"/g)).toHaveLength(2);
    expect(output.match(/"code":0,"signal":null,"msg":"worker stopped"/g)).toHaveLength(2);
    expect(output).toMatch(/"component":"workers","msg":"stopped"/);
  });
});

describe('WORKERS: replacing a worker that keeps dying', () => {
  it('pauses 1 s, doubling up to 30 s while each replacement dies again soon, and 1 s again after one that stayed ready a minute', () => {
    const pauses: number[] = [];
    let previous = 0;
    for (let death = 0; death < 7; death++) pauses.push((previous = restartPause(previous, death === 3 ? 5000 : 0)));
    expect(pauses).toEqual([FIRST_RESTART_PAUSE_MS, 2000, 4000, 8000, 16_000, MAX_RESTART_PAUSE_MS, MAX_RESTART_PAUSE_MS]);
    expect(restartPause(MAX_RESTART_PAUSE_MS, STABLE_AFTER_MS - 1)).toBe(MAX_RESTART_PAUSE_MS);
    expect(restartPause(MAX_RESTART_PAUSE_MS, STABLE_AFTER_MS)).toBe(FIRST_RESTART_PAUSE_MS);
    expect(restartPause(0, 3_600_000)).toBe(FIRST_RESTART_PAUSE_MS);
  });
});

describe('WORKERS=2: stopping with a request in flight', () => {
  it('stops accepting once the drain starts, and a worker answers the request it has in flight before it exits', async () => {
    const gateway = spawnGateway(workersEnv());
    const url = await gateway.listening(20_000);
    // A publish whose body is half sent: the primary relays it to a worker, which waits for the rest.
    const body = JSON.stringify({ event: 'news', data: 'in flight', broadcast: true });
    const raw = connect(Number(new URL(url).port), '127.0.0.1');
    let answer = '';
    raw.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    raw.write(`POST /v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));

    gateway.child.kill('SIGTERM');
    await waitFor(() => gateway.output().includes('"requests":1,"msg":"waiting for the requests in flight"'), { what: 'a worker to wait for the publish' });
    // The primary no longer accepts (the drain started), while the worker still waits for the publish.
    await waitFor(() => gateway.output().includes('"msg":"stopped accepting connections"'), { what: 'the primary to stop accepting' });
    await expect(fetch(`${url}/readyz`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    raw.write(body.slice(10));
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(await gateway.exited()).toBe(0);
  }, 30_000);
});

describe('WORKERS: handing a socket over', () => {
  it("stops the primary's reads of a socket at once with the internal this Node.js has (`_handle.readStop`); refuses what is not a live socket", async () => {
    const server = createServer();
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const accepted = new Promise<NetSocket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    onCleanup(() => void client.destroy());
    const socket = await accepted;
    expect(stopReading(socket)).toBe(true);
    socket.destroy();
    expect(stopReading(socket)).toBe(false);
    expect(stopReading(undefined)).toBe(false);
  });
});

describe('WORKERS without Redis', () => {
  it('is refused with a config error naming REDIS_URL (the in-memory engine cannot span processes)', async () => {
    const { REDIS_URL: _redis, ...env } = workersEnv();
    const gateway = spawnGateway(env);
    expect(await gateway.exited()).toBe(1);
    expect(gateway.output()).toContain('WORKERS=2 needs the Redis engine (set REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)');
    expect(gateway.output()).not.toContain('worker ready');
  });

  it('refuses WORKERS=auto too, whatever the number of cores; WORKERS=1 (the default) needs no Redis', () => {
    const base = { NODE_ENV: 'test' };
    expect(() => loadConfig({ ...base, WORKERS: 'auto' })).toThrow(/WORKERS=auto needs the Redis engine/);
    expect(loadConfig({ ...base, WORKERS: 'auto', REDIS_URL: 'redis://127.0.0.1:6379' }).workers).toBeGreaterThanOrEqual(1);
    expect(loadConfig(base).workers).toBe(1);
    expect(() => loadConfig({ ...base, WORKERS: '0' })).toThrow(/WORKERS/);
  });
});
