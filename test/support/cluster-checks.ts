import type { Socket } from 'socket.io-client';
import { expect } from 'vitest';
import { api, connectAs, expectConnectError, flush, nextEvent, openClient, recordEvents, signToken } from './gateway.js';
import type { GatewayProcess } from './process.js';
import { startProxy, type SwitchProxy } from './proxy.js';
import { unique } from './temp.js';
import { waitFor } from './wait.js';

/**
 * What the multi-node tests check through any node, whatever the engine (the in-process cluster, or
 * gateway processes on Redis): who is connected, room sizes, stats, targeted and ordered delivery, and
 * recovery across nodes. Each takes node URLs.
 */

export interface ConnectionView {
  socketId: string;
  userId: string;
  sessionId?: string;
  connectedAt: number;
  rooms: string[];
}

/** `GET /v1/users/{id}` as a node answers it. */
export interface UserView {
  userId: string;
  online: boolean;
  connections: ConnectionView[];
  sessions: string[];
  activeSession: string | null;
}

/** `POST /v1/publish` through `url`; expects 200 and answers the message id. */
export async function publish(url: string, body: Record<string, unknown>): Promise<string> {
  const response = await api<{ id: string }>(url, '/v1/publish', { body });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.id;
}

export async function getUser(url: string, userId: string): Promise<UserView> {
  const response = await api<UserView>(url, `/v1/users/${encodeURIComponent(userId)}`);
  expect(response.status).toBe(200);
  return response.body;
}

/** `GET /v1/rooms/{room}`: the room's sockets on every node. */
export async function roomSize(url: string, room: string): Promise<number> {
  const response = await api<{ room: string; sockets: number }>(url, `/v1/rooms/${encodeURIComponent(room)}`);
  expect(response.status).toBe(200);
  expect(response.body.room).toBe(room);
  return response.body.sockets;
}

/** The cluster-wide counts of `GET /v1/stats`. */
export async function stats(url: string): Promise<{ connections: number; users: number; rooms: number }> {
  const { body } = await api<{ connections: number; users: number; rooms: number }>(url, '/v1/stats');
  return { connections: body.connections, users: body.users, rooms: body.rooms };
}

/** The session-level events a socket goes through from now on, in order: connect, connect_error, auth:logout, disconnect. */
export function sessionEvents(socket: Socket): string[] {
  const log: string[] = [];
  socket.on('connect', () => log.push('connect'));
  socket.on('connect_error', (error: Error & { data?: { code: string } }) => log.push(`connect_error:${error.data?.code ?? error.message}`));
  socket.on('auth:logout', (payload: { reason: string }) => log.push(`auth:logout:${payload.reason}`));
  socket.on('disconnect', (reason: string) => log.push(`disconnect:${reason}`));
  return log;
}

export interface Delivery {
  data: unknown;
  meta: { id: string } | undefined;
  /** Socket.IO's recovery offset (the argument after the metadata) when recovery is on. */
  offset: unknown;
  args: unknown[];
}

/** Every `event` the socket receives from now on, with its arguments. */
export function deliveries(socket: Socket, event: string): Delivery[] {
  const out: Delivery[] = [];
  socket.on(event, (...args: unknown[]) => out.push({ data: args[0], meta: args[1] as { id: string } | undefined, offset: args[2], args }));
  return out;
}

/**
 * Four users on three nodes; publishes through every node to users, sessions, rooms, with `except`, and
 * to everyone: each matching socket on every node gets each message once, with its id, and no other.
 */
export async function expectTargetedDelivery([a, b, c]: readonly string[]): Promise<void> {
  if (a === undefined || b === undefined || c === undefined) throw new Error('needs three nodes');
  const [alice, bob, carol] = [unique('alice'), unique('bob'), unique('carol')];
  const [sa1, sa2, sb, sc] = [unique('s'), unique('s'), unique('s'), unique('s')];
  const aliceA = await connectAs(a, alice, sa1);
  const aliceB = await connectAs(b, alice, sa2);
  const bobC = await connectAs(c, bob, sb);
  const carolB = await connectAs(b, carol, sc);
  const all = [aliceA, aliceB, bobC, carolB];
  const seen = all.map((socket) => recordEvents(socket));
  await flush(a, ...all);

  const step = async (via: string, body: Record<string, unknown>, receivers: Socket[]) => {
    const arrivals = receivers.map((socket) => nextEvent<[unknown, { id: string }]>(socket, body.event as string, 5000));
    const id = await publish(via, body);
    for (const [data, meta] of await Promise.all(arrivals)) {
      expect(data).toEqual(body.data);
      expect(meta.id).toBe(id);
    }
  };
  await step(c, { event: 'to:users', data: { n: 1 }, users: [alice] }, [aliceA, aliceB]);
  await step(a, { event: 'to:sessions', data: { n: 2 }, sessions: [sa2, sb] }, [aliceB, bobC]);
  await step(b, { event: 'to:rooms', data: { n: 3 }, rooms: [`user:${carol}`, `user:${bob}`] }, [carolB, bobC]);
  await step(a, { event: 'to:overlap', data: { n: 4 }, users: [alice], sessions: [sa2], rooms: [`user:${alice}`] }, [aliceA, aliceB]);
  await step(a, { event: 'to:except-room', data: { n: 5 }, users: [alice, bob], except: [`session:${sa1}`] }, [aliceB, bobC]);
  await step(c, { event: 'to:except-socket', data: { n: 6 }, users: [alice], except: [aliceB.id!] }, [aliceA]);
  await step(b, { event: 'to:everyone', data: { n: 7 }, broadcast: true }, all);
  await flush(c, ...all);

  expect(seen.map((events) => events.map((e) => e.event).filter((event) => event !== 'test:marker'))).toEqual([
    ['to:users', 'to:overlap', 'to:except-socket', 'to:everyone'],
    ['to:users', 'to:sessions', 'to:overlap', 'to:except-room', 'to:everyone'],
    ['to:sessions', 'to:rooms', 'to:except-room', 'to:everyone'],
    ['to:rooms', 'to:everyone'],
  ]);
}

/** One user connected on every node; 30 publishes to that user, one after the other, through `via` in turn. */
export async function expectOrderedDelivery(urls: readonly string[], via: readonly string[]): Promise<void> {
  const user = unique('dora');
  const clients = await Promise.all(urls.map((url) => connectAs(url, user, unique('s'))));
  const got = clients.map((socket) => deliveries(socket, 'seq'));
  await flush(urls[0]!, ...clients);
  const ids: string[] = [];
  for (let i = 0; i < 30; i += 1) ids.push(await publish(via[i % via.length]!, { event: 'seq', data: i, users: [user] }));
  await waitFor(() => got.forEach((list) => expect(list.length).toBeGreaterThanOrEqual(30)));
  await flush(urls.at(-1)!, ...clients);
  const expected = Array.from({ length: 30 }, (_, i) => i);
  for (const list of got) {
    expect(list.map((d) => d.data)).toEqual(expected);
    expect(list.map((d) => d.meta?.id)).toEqual(ids);
  }
}

/** A stock client (WebSocket only, automatic reconnection) connected through a proxy in front of `url`. */
export async function connectThroughProxy(url: string) {
  const proxy = await startProxy(url);
  const user = unique('rita');
  const socket = openClient(proxy.url, {
    auth: { token: await signToken({ user_id: user, session_id: unique('s') }) },
    transports: ['websocket'],
    reconnection: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 200,
  });
  const got = deliveries(socket, 'news');
  await nextEvent(socket, 'connect', 5000);
  expect(socket.recovered).toBeFalsy(); // stock client: false, or undefined when the server has recovery off
  return { proxy, socket, user, got };
}

/** Drops the client's connection and refuses its reconnection attempts until the proxy is pointed again. */
export async function dropClient(proxy: SwitchProxy, socket: Socket): Promise<void> {
  proxy.pointTo(null);
  const dropped = nextEvent<[string]>(socket, 'disconnect', 5000);
  proxy.dropConnections();
  expect((await dropped)[0]).toBe('transport close');
}

/** Points the proxy at `url` (after {@link dropClient}) and waits until the client has reconnected through it. */
export async function reconnectClient(proxy: SwitchProxy, socket: Socket, url: string): Promise<void> {
  const reconnected = nextEvent(socket, 'connect', 5000);
  proxy.pointTo(url);
  await reconnected;
}

/**
 * A client connected to `from` drops; while it is away, messages are published through `publishVia` (one to
 * another user, which must not arrive, and one broadcast); it reconnects to `to` and must get every missed
 * message once, in order, with `socket.recovered`, then live ones again.
 */
export async function expectRecovery({ from, to, publishVia }: { from: string; to: string; publishVia: string }): Promise<void> {
  const { proxy, socket, user, got } = await connectThroughProxy(from);
  const ids = [await publish(from, { event: 'news', data: 0, users: [user] })];
  await waitFor(() => expect(got).toHaveLength(1));

  await dropClient(proxy, socket);
  for (let i = 1; i <= 5; i += 1) {
    ids.push(await publish(publishVia, i === 3 ? { event: 'news', data: i, broadcast: true } : { event: 'news', data: i, users: [user] }));
    if (i === 2) await publish(publishVia, { event: 'news', data: 'not for rita', users: [unique('someone-else')] });
  }
  await reconnectClient(proxy, socket, to);
  expect(socket.recovered).toBe(true);

  ids.push(await publish(to, { event: 'news', data: 6, users: [user] }));
  await waitFor(() => expect(got.length).toBeGreaterThanOrEqual(7));
  await flush(to, socket);
  expect(got.map((d) => d.data)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  expect(got.map((d) => d.meta?.id)).toEqual(ids);
  expect(got.every((d) => typeof d.offset === 'string')).toBe(true);
}

/**
 * Two users with sockets on three nodes: every node answers GET /v1/users, /v1/rooms/{room} and
 * /v1/stats for the whole cluster, and sees a disconnect on another node.
 */
export async function expectClusterPresence(urls: readonly string[]): Promise<void> {
  const [a, b, c] = urls as [string, string, string];
  const [alice, bob] = [unique('alice'), unique('bob')];
  const [sa1, sa2, sb] = [unique('s'), unique('s'), unique('s')];
  const aliceA = await connectAs(a, alice, sa1);
  const aliceB = await connectAs(b, alice, sa2);
  const aliceC = await connectAs(c, alice, sa2);
  const bobC = await connectAs(c, bob, sb);

  for (const url of urls) {
    await waitFor(async () => {
      const user = await getUser(url, alice);
      expect(user.online).toBe(true);
      expect(byId(user.connections)).toEqual(byId([
        { socketId: aliceA.id!, userId: alice, sessionId: sa1, connectedAt: expect.any(Number) as number, rooms: [`user:${alice}`, `session:${sa1}`] },
        { socketId: aliceB.id!, userId: alice, sessionId: sa2, connectedAt: expect.any(Number) as number, rooms: [`user:${alice}`, `session:${sa2}`] },
        { socketId: aliceC.id!, userId: alice, sessionId: sa2, connectedAt: expect.any(Number) as number, rooms: [`user:${alice}`, `session:${sa2}`] },
      ]));
      expect([...user.sessions].sort()).toEqual([sa1, sa2].sort());
      expect(await roomSize(url, `user:${alice}`)).toBe(3);
      expect(await roomSize(url, `session:${sa2}`)).toBe(2);
      expect(await roomSize(url, `user:${bob}`)).toBe(1);
      // user:alice, user:bob, session:sa1, session:sa2, session:sb
      expect(await stats(url)).toEqual({ connections: 4, users: 2, rooms: 5 });
    });
  }

  // A disconnect on one node is seen from every node.
  aliceB.close();
  bobC.close();
  for (const url of urls) {
    await waitFor(async () => {
      expect((await getUser(url, alice)).connections.map((x) => x.socketId).sort()).toEqual([aliceA.id, aliceC.id].sort());
      expect(await roomSize(url, `user:${alice}`)).toBe(2);
      expect(await roomSize(url, `session:${sa2}`)).toBe(1);
      expect(await getUser(url, bob)).toMatchObject({ userId: bob, online: false, connections: [], sessions: [] });
      expect(await roomSize(url, `user:${bob}`)).toBe(0);
      expect(await stats(url)).toEqual({ connections: 2, users: 1, rooms: 3 });
    });
  }
}

/** `/internal/force-logout` on one node logs out the user's other sessions on every node, and the kept one stays. */
export async function expectForceLogoutEverywhere(urls: readonly string[]): Promise<void> {
  const [a, b, c] = urls as [string, string, string];
  const dan = unique('dan');
  const [keep, s2, s3] = [unique('keep'), unique('s'), unique('s')];
  const kept = await connectAs(a, dan, keep);
  const losers = [await connectAs(b, dan, s2), await connectAs(c, dan, s3), await connectAs(a, dan, s3)];
  const keptEvents = recordEvents(kept);
  const logs = losers.map((socket) => sessionEvents(socket));

  const response = await api(b, '/internal/force-logout', { body: { userId: dan, sessionId: keep } });
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ ok: true, disconnected: 3 });
  for (const log of logs) await waitFor(() => expect(log).toEqual(['auth:logout:force-logout', 'disconnect:io server disconnect']));

  // The active session is shared: a logged-out session is refused on any node.
  const refusal = await expectConnectError(c, { auth: { token: await signToken({ user_id: dan, session_id: s2 }) } });
  expect(refusal.data?.code).toBe('SESSION_REVOKED');
  for (const url of urls) {
    await waitFor(async () => {
      const user = await getUser(url, dan);
      expect(user.sessions).toEqual([keep]);
      expect(user.activeSession).toBe(keep);
      expect(user.connections.map((x) => x.socketId)).toEqual([kept.id]);
    });
  }
  await flush(c, kept);
  expect(kept.connected).toBe(true);
  expect(keptEvents.map((e) => e.event).filter((event) => event !== 'test:marker')).toEqual([]);
}

/** `POST /v1/users/{id}/disconnect` on one node disconnects that user (one session, then all) on every node. */
export async function expectDisconnectEverywhere(urls: readonly string[]): Promise<void> {
  const [a, b, c] = urls as [string, string, string];
  const [erin, frank] = [unique('erin'), unique('frank')];
  const [sa, sb] = [unique('s'), unique('s')];
  const erinA = await connectAs(a, erin, sa);
  const erinB = await connectAs(b, erin, sb);
  const erinC = await connectAs(c, erin, sb);
  const frankB = await connectAs(b, frank, unique('s'));

  const oneSession = [erinB, erinC].map((socket) => nextEvent<[string]>(socket, 'disconnect'));
  const first = await api(a, `/v1/users/${erin}/disconnect`, { body: { sessionId: sb } });
  expect(first.status).toBe(200);
  expect(first.body).toEqual({ disconnected: 2 });
  expect((await Promise.all(oneSession)).map(([reason]) => reason)).toEqual(['io server disconnect', 'io server disconnect']);
  await flush(b, erinA); // the other session is still connected and served

  const rest = nextEvent<[string]>(erinA, 'disconnect');
  const second = await api(c, `/v1/users/${erin}/disconnect`, { method: 'POST' });
  expect(second.status).toBe(200);
  expect(second.body).toEqual({ disconnected: 1 });
  expect((await rest)[0]).toBe('io server disconnect');
  for (const url of urls) await waitFor(async () => expect(await getUser(url, erin)).toMatchObject({ online: false, connections: [] }));
  await flush(c, frankB);
  expect(frankB.connected).toBe(true);
}

function byId(connections: readonly ConnectionView[]): ConnectionView[] {
  return [...connections].sort((x, y) => x.socketId.localeCompare(y.socketId));
}

/**
 * A node whose Redis answers nothing (none of its REDIS_SENTINELS or REDIS_CLUSTER_NODES): `/readyz` is 503,
 * a publish is 503 ENGINE_UNAVAILABLE with `Retry-After: 1` (a backend retries), the process keeps running,
 * and none of `secrets` is in its output.
 */
export async function expectRefusedWhileRedisUnreachable(node: GatewayProcess, url: string, secrets: readonly string[]): Promise<void> {
  expect((await fetch(`${url}/readyz`)).status).toBe(503);
  const refused = await api(url, '/v1/publish', { body: { event: 'news', rooms: ['news:0'] } });
  expect({ status: refused.status, retryAfter: refused.headers.get('retry-after'), body: refused.body }).toMatchObject({
    status: 503, retryAfter: '1', body: { error: { code: 'ENGINE_UNAVAILABLE' } },
  });
  expect(node.child.exitCode).toBeNull();
  for (const secret of secrets) expect(node.output()).not.toContain(secret);
}
