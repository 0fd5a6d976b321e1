import { describe, expect, it } from 'vitest';
import { createClient, EventDataClientInstance, SwitchboardError, type Client, type ClientState, type MessageMeta } from '@switchboard/client';
import { api, signToken, startGateway } from './support/gateway.js';
import { onCleanup } from './support/cleanup.js';
import { startReceiver } from './support/http-receiver.js';
import { startProxy, type SwitchProxy } from './support/proxy.js';
import { sleep, waitFor } from './support/wait.js';

/** A client of user `userId` (session `{userId}-s`) with quick reconnects, closed after the test. */
function clientOf(url: string, userId: string, extra: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  const client = createClient({ url, getToken: () => signToken({ user_id: userId, session_id: `${userId}-s` }), reconnectionDelay: 50, reconnectionDelayMax: 200, ...extra });
  onCleanup(() => client.close());
  return client;
}

function statesOf(client: Client): ClientState[] {
  const states: ClientState[] = [];
  client.on('state', (state) => void states.push(state));
  return states;
}

const connected = (client: Client) => waitFor(() => client.socket.connected, { what: 'the client to connect' });

/** Cuts the client's connection and keeps it away (the proxy refuses new ones) until `proxy.pointTo(url)`. */
async function cutOff(proxy: SwitchProxy, client: Client): Promise<void> {
  proxy.dropConnections();
  proxy.pointTo(null);
  await waitFor(() => !client.socket.connected, { what: 'the cut' });
}

describe('client SDK calls', () => {
  it('presence lists the users in a room; send relays a client event the others get with its sender', async () => {
    const { url } = await startGateway({ CLIENT_EVENTS: 'typing' });
    const alice = clientOf(url, 'alice');
    const bob = clientOf(url, 'bob');
    await Promise.all([alice.subscribe('chat:lobby', () => undefined).ready, bob.subscribe('chat:lobby', () => undefined).ready]);
    const members = await alice.presence('chat:lobby');
    expect(members.map((member) => member.userId).sort()).toEqual(['alice', 'bob']);

    const typing: [unknown, MessageMeta][] = [];
    bob.on('typing', (data, meta) => void typing.push([data, meta]));
    await alice.send('chat:lobby', 'typing', { on: true });
    await waitFor(() => typing.length === 1, { what: 'the relayed event' });
    expect(typing[0]).toEqual([{ on: true }, expect.objectContaining({ from: 'alice', room: 'chat:lobby' })]);

    // A refusal rejects with the catalog's code: an event outside CLIENT_EVENTS, a room never joined.
    await expect(alice.send('chat:lobby', 'not-allowed', 1)).rejects.toMatchObject({ code: 'EVENT_UNKNOWN' });
    await expect(alice.presence('chat:elsewhere')).rejects.toBeInstanceOf(SwitchboardError);
  });

  it('chat.send reaches every socket of the user once and answers the id and whether it was delivered', async () => {
    const { url } = await startGateway();
    const alice = clientOf(url, 'alice');
    const bob = clientOf(url, 'bob');
    const received: [unknown, MessageMeta][] = [];
    bob.on('single-chat/receive-message', (data, meta) => void received.push([data, meta]));
    await Promise.all([connected(alice), connected(bob)]);
    const answer = await alice.chat.send('bob', 'hello');
    expect(answer).toEqual({ id: expect.any(String), delivered: true });
    await waitFor(() => received.length === 1, { what: 'the direct message' });
    expect(received[0]?.[0]).toMatchObject({ from: 'alice', message: 'hello' });
    expect(received[0]?.[1].id).toBe(answer.id);
    expect(await alice.chat.send('nobody', 'hi')).toEqual({ id: expect.any(String), delivered: false });
  });

  it('joinWithToken joins a seed 001 channel, and joins it again with the token after a reconnect that was not recovered', async () => {
    const { url } = await startGateway({ NODE_ENV: 'production', API_KEYS: 'test-api-key-5f3c1e9a', JWT_SECRET: 'test-jwt-secret-8d2b7c4f6a1e0d9c', RECOVERY_WINDOW_MS: '0' });
    const proxy = await startProxy(url);
    const client = clientOf(proxy.url, 'carol');
    const minted = await api<{ token: string }>(url, '/v1/join-tokens', { body: { channel: 'orders:42', ttlS: 60 } });
    const seen: number[] = [];
    const subscription = await client.joinWithToken(minted.body.token, (data) => void seen.push(data as number));
    expect(subscription.room).toBe('orders:42');
    await subscription.ready;
    await api(url, '/v1/publish', { body: { event: 'order', data: 1, rooms: ['orders:42'] } });
    await waitFor(() => seen.length === 1, { what: 'the first message' });

    await cutOff(proxy, client);
    for (const data of [2, 3]) await api(url, '/v1/publish', { body: { event: 'order', data, rooms: ['orders:42'] } });
    proxy.pointTo(url);
    await waitFor(() => seen.length === 3, { what: 'what was published while away' });
    await api(url, '/v1/publish', { body: { event: 'order', data: 4, rooms: ['orders:42'] } });
    await waitFor(() => seen.length === 4, { what: 'a live message after the re-join' });
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(client.socket.recovered, 'no connection-state recovery with RECOVERY_WINDOW_MS=0').not.toBe(true);
  });

  it("a refused subscription rejects ready with the code and reports it as 'error'", async () => {
    const { url } = await startGateway({ NODE_ENV: 'production', API_KEYS: 'test-api-key-5f3c1e9a', JWT_SECRET: 'test-jwt-secret-8d2b7c4f6a1e0d9c' });
    const client = clientOf(url, 'dave');
    const errors: Error[] = [];
    client.on('error', (error) => void errors.push(error));
    const subscription = client.subscribe('private:room', () => undefined);
    await expect(subscription.ready).rejects.toMatchObject({ code: 'ROOM_FORBIDDEN', transient: false });
    expect(errors).toEqual([expect.objectContaining({ code: 'ROOM_FORBIDDEN' })]);
  });

  it("on() gets events to the user's own room once, and what was sent there while away from history", async () => {
    const { url } = await startGateway({ RECOVERY_WINDOW_MS: '0' });
    const proxy = await startProxy(url);
    const client = clientOf(proxy.url, 'erin');
    const updates: unknown[] = [];
    client.on('profile:update', (data) => void updates.push(data));
    await connected(client);
    await api(url, '/v1/publish', { body: { event: 'profile:update', data: 1, users: ['erin'] } });
    await waitFor(() => updates.length === 1, { what: 'the live update' });
    await cutOff(proxy, client);
    for (const data of [2, 3]) await api(url, '/v1/publish', { body: { event: 'profile:update', data, users: ['erin'] } });
    proxy.pointTo(url);
    await waitFor(() => updates.length === 3, { what: 'the updates sent while away' });
    await sleep(200);
    expect(updates).toEqual([1, 2, 3]);
  });

  it('reads back what was published while away before a room had sent the client anything, and nothing older', async () => {
    const { url } = await startGateway({ RECOVERY_WINDOW_MS: '0' });
    const proxy = await startProxy(url);
    const client = clientOf(proxy.url, 'jo');
    for (const data of ['old-1', 'old-2']) await api(url, '/v1/publish', { body: { event: 'note', data, rooms: ['chat:old'] } });
    const seen = new Map<string, unknown[]>([['chat:old', []], ['chat:new', []]]);
    const subscriptions = [...seen.keys()].map((room) => client.subscribe(room, (data) => void seen.get(room)?.push(data)));
    await Promise.all(subscriptions.map((subscription) => subscription.ready));
    await cutOff(proxy, client);
    for (const room of seen.keys()) for (const data of [1, 2, 3]) await api(url, '/v1/publish', { body: { event: 'note', data, rooms: [room] } });
    proxy.pointTo(url);
    await waitFor(() => [...seen.values()].every((list) => list.length === 3), { what: 'what was published while away' });
    await sleep(200);
    expect(Object.fromEntries(seen)).toEqual({ 'chat:old': [1, 2, 3], 'chat:new': [1, 2, 3] });
  });

  it("reads back what was sent to the user's own room while away, though nothing had come through it before", async () => {
    const { url } = await startGateway({ RECOVERY_WINDOW_MS: '0' });
    const proxy = await startProxy(url);
    const client = clientOf(proxy.url, 'kim');
    const updates: unknown[] = [];
    client.on('profile:update', (data) => void updates.push(data));
    const asked: string[] = [];
    client.socket.onAnyOutgoing((event: string) => void asked.push(event));
    await connected(client);
    await waitFor(() => asked.filter((event) => event === 'history').length >= 2, { what: 'the own rooms (user:, session:) positioned' });
    await cutOff(proxy, client);
    for (const data of [1, 2]) await api(url, '/v1/publish', { body: { event: 'profile:update', data, users: ['kim'] } });
    proxy.pointTo(url);
    await waitFor(() => updates.length === 2, { what: 'the updates sent while away' });
    await api(url, '/v1/publish', { body: { event: 'profile:update', data: 3, users: ['kim'] } });
    await waitFor(() => updates.length === 3, { what: 'a live update' });
    expect(updates).toEqual([1, 2, 3]);
  });

  it('leaves a room unsubscribed while disconnected, also when the reconnect is recovered', async () => {
    const { url } = await startGateway();
    const proxy = await startProxy(url);
    const client = clientOf(proxy.url, 'lou');
    const subscription = client.subscribe('chat:leave-me', () => undefined);
    await subscription.ready;
    await cutOff(proxy, client);
    subscription.unsubscribe();
    proxy.pointTo(url);
    await connected(client);
    expect(client.socket.recovered).toBe(true);
    await waitFor(async () => (await api<{ members: unknown[] }>(url, '/v1/rooms/chat:leave-me/presence')).body.members.length === 0, { what: 'the room to be left' });
  });
});

describe('client SDK connection states', () => {
  it('stops with state refused (SESSION_REVOKED, the reason) on auth:logout and does not reconnect', async () => {
    const { url } = await startGateway();
    const client = clientOf(url, 'fay');
    const states = statesOf(client);
    await connected(client);
    const forced = await api(url, '/internal/force-logout', { body: { userId: 'fay', sessionId: 'another-session' } });
    expect(forced.status).toBe(200);
    await waitFor(() => client.state.state === 'refused', { what: 'the refusal' });
    expect(client.state).toEqual({ state: 'refused', code: 'SESSION_REVOKED', reason: 'force-logout' });
    await sleep(500);
    expect(client.socket.connected).toBe(false);
    expect(client.socket.active).toBe(false);
    expect(states.map((s) => s.state)).toEqual(['connecting', 'connected', 'refused']);
  });

  it('keeps retrying through a 5 s introspection outage (a transient refusal) and connects by itself afterwards', async () => {
    let endpointUp = false;
    const exp = Math.floor(Date.now() / 1000) + 600;
    const endpoint = await startReceiver(() => (endpointUp ? { body: { active: true, user_id: 'gus', session_id: 'gus-s', exp } } : 503));
    const { url } = await startGateway({ AUTH_STRATEGY: 'introspection', INTROSPECTION_URL: `${endpoint.url}/introspect`, INTROSPECTION_CACHE_S: '0' });
    const client = createClient({ url, getToken: () => 'opaque-token', reconnectionDelay: 100, reconnectionDelayMax: 1000 });
    onCleanup(() => client.close());
    const states = statesOf(client);
    await sleep(5000);
    const asked = endpoint.received.length;
    expect(asked, 'handshakes tried during the outage').toBeGreaterThanOrEqual(3);
    expect(client.socket.connected).toBe(false);
    endpointUp = true;
    await waitFor(() => client.socket.connected, { what: 'the client to connect by itself', timeoutMs: 10_000 });
    expect(states.some((s) => s.state === 'refused')).toBe(false);
    expect(client.state).toEqual({ state: 'connected' });
  }, 30_000);

  it('asks getToken once for a token valid 30 days, and at most every few seconds for one shorter than refreshSkewS', async () => {
    const { url } = await startGateway();
    let longCalls = 0;
    const long = createClient({ url, getToken: () => { longCalls += 1; return signToken({ user_id: 'max' }, { expiresIn: 30 * 24 * 3600 }); } });
    onCleanup(() => long.close());
    let shortCalls = 0;
    const short = createClient({ url, getToken: () => { shortCalls += 1; return signToken({ user_id: 'ned' }, { expiresIn: 20 }); } });
    onCleanup(() => short.close());
    await Promise.all([connected(long), connected(short)]);
    await sleep(1500);
    expect(longCalls).toBe(1);
    expect(shortCalls).toBeLessThanOrEqual(2);
    expect(long.socket.connected && short.socket.connected).toBe(true);
  });

  it('reconnects by itself after an offline spell its connection lived through (the pause ends with the spell)', async () => {
    // What a browser gives the client: navigator.onLine and the window's online/offline events.
    const window = new EventTarget();
    const navigator = { onLine: true };
    const browserGlobals = { addEventListener: window.addEventListener.bind(window), removeEventListener: window.removeEventListener.bind(window), navigator };
    for (const [name, value] of Object.entries(browserGlobals)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
    onCleanup(() => { for (const name of Object.keys(browserGlobals)) Reflect.deleteProperty(globalThis, name); });
    const { url } = await startGateway();
    const proxy = await startProxy(url);
    const client = clientOf(proxy.url, 'ola');
    await connected(client);
    navigator.onLine = false;
    window.dispatchEvent(new Event('offline'));
    expect(client.socket.connected).toBe(true); // a Wi-Fi blip the WebSocket lived through
    navigator.onLine = true;
    window.dispatchEvent(new Event('online'));
    proxy.dropConnections(); // later, a drop
    await waitFor(() => !client.socket.connected, { what: 'the drop' });
    await waitFor(() => client.socket.connected, { what: 'the client to reconnect by itself' });
  });

  it("reports a failing getToken as 'error' and tries again until it answers", async () => {
    const { url } = await startGateway();
    let calls = 0;
    const client = createClient({
      url, reconnectionDelay: 50, reconnectionDelayMax: 200,
      getToken: async () => {
        calls += 1;
        if (calls <= 2) throw new Error('token endpoint down');
        return signToken({ user_id: 'hal' });
      },
    });
    onCleanup(() => client.close());
    const errors: Error[] = [];
    client.on('error', (error) => void errors.push(error));
    await connected(client);
    expect(errors.map((error) => error.message)).toEqual(['token endpoint down', 'token endpoint down']);
    expect(calls).toBe(3);
  });

  it('asks getToken again when the gateway refuses an expired token, instead of stopping', async () => {
    const { url } = await startGateway();
    const tokens = [await signToken({ user_id: 'ida' }, { expiresIn: -3600 }), await signToken({ user_id: 'ida' })];
    let calls = 0;
    const client = createClient({ url, refreshSkewS: 0, reconnectionDelay: 50, reconnectionDelayMax: 200, getToken: () => tokens[Math.min(calls++, 1)] as string });
    onCleanup(() => client.close());
    await connected(client);
    expect(calls).toBe(2);
  });
});

describe("seed 002's EventDataClientInstance from @switchboard/client", () => {
  it('connects with config.authentication and reports onConnect / onDisconnect as the seed did', async () => {
    const { url } = await startGateway();
    const { hostname, port } = new URL(url);
    const client = new EventDataClientInstance();
    client.config.host = `http://${hostname}`;
    client.config.port = Number(port);
    client.config.authentication = { authMode: 'Bearer', auth: await signToken({ user_id: 'idae' }) };
    const seen: string[] = [];
    client.onConnect = ({ socketId, socketConnected }) => void seen.push(`connect ${socketId === client.socket.id} ${socketConnected}`);
    client.onDisconnect = ({ socketConnected }) => void seen.push(`disconnect ${socketConnected}`);
    client.connect();
    onCleanup(() => void client.socket.close());
    await waitFor(() => seen.length === 1, { what: 'onConnect' });
    const got = new Promise((resolve) => client.socket.on('collection:update', resolve));
    await api(url, '/v1/publish', { body: { event: 'collection:update', data: { id: 123 }, users: ['idae'] } });
    expect(await got).toEqual({ id: 123 });
    await api(url, `/v1/users/idae/disconnect`, { method: 'POST' });
    await waitFor(() => seen.length === 2, { what: 'onDisconnect' });
    expect(seen).toEqual(['connect true true', 'disconnect false']);
  });

  it('stops after a final refusal (where the seed retried every second) and hands onConnectError the code', async () => {
    const { url } = await startGateway();
    const quiet = new EventDataClientInstance();
    quiet.config.host = url;
    quiet.config.authentication = { authMode: 'Bearer', auth: 'not-a-token' };
    let refusals = 0;
    quiet.connect();
    onCleanup(() => void quiet.socket.close());
    quiet.socket.on('connect_error', () => void (refusals += 1));
    await waitFor(() => refusals === 1, { what: 'the refusal' });
    await sleep(1500);
    expect(refusals).toBe(1);

    const told = new EventDataClientInstance();
    told.config.host = url;
    told.config.authentication = { authMode: 'Bearer', auth: 'not-a-token' };
    const errors: unknown[] = [];
    told.onConnectError = (connection) => void errors.push(connection);
    told.connect();
    onCleanup(() => void told.socket.close());
    await waitFor(() => errors.length === 1, { what: 'onConnectError' });
    expect(errors[0]).toEqual({ socketId: '', socketConnected: false, code: 'TOKEN_INVALID' });
  });
});
