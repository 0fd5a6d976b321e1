import { describe, expect, it } from 'vitest';
import { createClient, type ClientState, type Gap } from '@switchboard/client';
import { api, signToken, startGateway } from './support/gateway.js';
import { onCleanup } from './support/cleanup.js';
import { startProxy, type SwitchProxy } from './support/proxy.js';
import { waitFor } from './support/wait.js';
import { startRedis } from './support/redis.js';
import { unique } from './support/temp.js';

const ROOMS = ['chat:a', 'chat:b', 'chat:c'];

function statesOf(client: ReturnType<typeof createClient>): ClientState[] {
  const states: ClientState[] = [];
  client.on('state', (state) => void states.push(state));
  return states;
}

/**
 * Subscribes a client behind `proxy` to {@link ROOMS}, publishes 30 messages it sees live, cuts it, publishes
 * 270 more through `publishUrl`, lets it reconnect to `reconnectTo`; answers the ids sent (2xx) and received per room.
 */
async function cutAndPublish(proxy: SwitchProxy, publishUrl: string, reconnectTo: string) {
  const token = await signToken();
  const client = createClient({ url: proxy.url, getToken: () => token, reconnectionDelay: 50, reconnectionDelayMax: 200 });
  onCleanup(() => client.close());
  const received = new Map<string, string[]>(ROOMS.map((room) => [room, []]));
  const gaps: unknown[] = [];
  client.on('gap', (gap) => void gaps.push(gap));
  const subscriptions = ROOMS.map((room) => client.subscribe(room, (_data, meta) => void received.get(room)?.push(meta.id)));
  const sent = new Map<string, string[]>(ROOMS.map((room) => [room, []]));
  const publish = async (i: number) => {
    const room = ROOMS[i % ROOMS.length] as string;
    const response = await api<{ id: string }>(publishUrl, '/v1/publish', { body: { event: 'note', data: i, rooms: [room] } });
    if (response.status >= 200 && response.status < 300) sent.get(room)?.push(response.body.id);
  };
  // Joined first: what is published before a room is joined is not the client's (a busy machine can take a while).
  await Promise.all(subscriptions.map((subscription) => subscription.ready));
  for (let i = 0; i < 30; i++) await publish(i); // seen live, so each room has an offset
  await waitFor(() => [...received.values()].every((ids) => ids.length === 10), { what: 'the live messages' });
  proxy.pointTo(null);
  proxy.dropConnections();
  await waitFor(() => !client.socket.connected, { what: 'the cut' });
  for (let i = 30; i < 300; i++) await publish(i);
  proxy.pointTo(reconnectTo);
  await waitFor(() => ROOMS.every((room) => received.get(room)?.length === sent.get(room)?.length), { what: 'every message', timeoutMs: 10_000 });
  return { sent, received, gaps };
}

describe('client SDK', () => {
  it('delivers every message once, in order per room, after a cut longer than the recovery window (through history)', async () => {
    const { url } = await startGateway({ RECOVERY_WINDOW_MS: '0' });
    const { sent, received, gaps } = await cutAndPublish(await startProxy(url), url, url);
    for (const room of ROOMS) expect(received.get(room)).toEqual(sent.get(room));
    expect([...sent.values()].flat()).toHaveLength(300);
    expect(gaps).toEqual([]);
  });

  it('delivers every message published through node B once, in order per room, while the client is cut from node A', async () => {
    const redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_DATA_PREFIX: `${unique('sbtest')}:` };
    const a = await startGateway(env);
    const b = await startGateway(env);
    const { sent, received, gaps } = await cutAndPublish(await startProxy(a.url), b.url, b.url);
    for (const room of ROOMS) expect(received.get(room)).toEqual(sent.get(room));
    expect([...sent.values()].flat()).toHaveLength(300);
    expect(gaps).toEqual([]);
  });

  it('fires gap once per room when the client was away longer than history reaches', async () => {
    const { url } = await startGateway({ RECOVERY_WINDOW_MS: '0', HISTORY_SIZE: '5' });
    const proxy = await startProxy(url);
    const token = await signToken();
    const client = createClient({ url: proxy.url, getToken: () => token, reconnectionDelay: 50, reconnectionDelayMax: 200 });
    onCleanup(() => client.close());
    const gaps: Gap[] = [];
    client.on('gap', (gap) => void gaps.push(gap));
    let live = 0;
    for (const room of ROOMS) client.subscribe(room, () => void (live += 1));
    await waitFor(() => client.socket.connected, { what: 'the client to connect' });
    for (const room of ROOMS) await api(url, '/v1/publish', { body: { event: 'note', data: 0, rooms: [room] } });
    await waitFor(() => live === ROOMS.length, { what: 'the live messages' });
    proxy.pointTo(null);
    proxy.dropConnections();
    await waitFor(() => !client.socket.connected, { what: 'the cut' });
    for (let i = 0; i < 10; i++) for (const room of ROOMS) await api(url, '/v1/publish', { body: { event: 'note', data: i, rooms: [room] } });
    proxy.pointTo(url);
    await waitFor(() => gaps.length === ROOMS.length, { what: 'a gap per room' });
    expect(gaps.map((gap) => gap.room).sort()).toEqual(ROOMS);
    expect(gaps.every((gap) => gap.reason === 'trimmed')).toBe(true);
  });

  it('refreshes a short-lived token through auth:refresh without reconnecting', async () => {
    const { url } = await startGateway();
    const claims = { user_id: 'sdk-user', session_id: 'sdk-session' };
    let calls = 0;
    const client = createClient({ url, refreshSkewS: 1, getToken: async () => { calls += 1; return signToken(claims, { expiresIn: 3 }); } });
    onCleanup(() => client.close());
    await waitFor(() => client.socket.connected, { what: 'the client to connect' });
    const id = client.socket.id;
    await waitFor(() => calls >= 3, { what: 'two refreshes', timeoutMs: 10_000 });
    expect(client.socket.connected).toBe(true);
    expect(client.socket.id).toBe(id);
  });

  it('stops with state refused and the code on a final refusal', async () => {
    const { url } = await startGateway();
    const client = createClient({ url, getToken: () => 'not-a-token' });
    onCleanup(() => client.close());
    const states = statesOf(client);
    await waitFor(() => states.some((s) => s.state === 'refused'), { what: 'the refusal' });
    expect(states.at(-1)).toEqual({ state: 'refused', code: 'TOKEN_INVALID' });
    expect(client.socket.active).toBe(false);
  });
});
