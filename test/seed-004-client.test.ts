import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import type { TestGateway } from './support/gateway.js';
import { connectAs, flush, nextEvent, recordEvents, startGateway } from './support/gateway.js';
import { startCluster } from './support/in-process-cluster.js';
import { startRedis } from './support/redis.js';
import { waitFor } from './support/wait.js';

/**
 * Seed 004's client code, unchanged, against Switchboard: a stock socket.io-client sending exactly the
 * shapes the seed's client and room service use (`{ room }`, `{ rooms }`, the room as a plain string for
 * leave, `{ room, message }`, `{ message, target_socket_id }`) and reading what they read
 * (`response.message`, `{ room }` of presence events, `{ room, message }` of room messages, the bare message
 * of a direct one). Where delivery crosses nodes, the sockets are on two nodes.
 */

/** Resolves once `node` sees the socket `socketId` through its adapter (the other nodes answer its lookups). */
async function untilVisible(node: TestGateway, socketId: string): Promise<void> {
  await waitFor(async () => (await node.gateway.io.in(socketId).fetchSockets()).length === 1, { what: `socket ${socketId} to be visible from ${node.url}` });
}

/** The seed's failure ack, with Switchboard's catalog error (`{ code, message, details? }`) beside it. */
const refusal = (message: string, code: string, echo: Record<string, unknown>) =>
  ({ status: false, message, ...echo, error: expect.objectContaining({ code, message: expect.any(String) as string }) as unknown });

describe("seed 004's room service and client", () => {
  it('room/join-room { room } acks { status, message: "Joined room: …", room, user: socket id }, beside ok; a refusal says status: false and the seed\'s message', async () => {
    const { url } = await startGateway({ NODE_ENV: 'production', PUBLIC_ROOMS: 'lobby*' });
    const socket = await connectAs(url, 'ann', 'a1');
    const response = await socket.emitWithAck('room/join-room', { room: 'lobby' });
    expect(response).toEqual({ ok: true, status: true, message: 'Joined room: lobby', room: 'lobby', user: socket.id });
    expect(response.message).toBe('Joined room: lobby'); // what the seed's client logs
    expect(await socket.emitWithAck('room/join-room', { room: 'vip' })).toEqual(refusal('Error joining room vip', 'ROOM_FORBIDDEN', { room: 'vip' }));
    expect(await socket.emitWithAck('room/join-room', { nope: 1 })).toEqual(refusal('Error joining room', 'INVALID_BODY', {}));
  });

  it('room/join-rooms { rooms } acks { status, message: "Joined rooms: a, b", rooms, user }; a refused room makes it status: false naming it', async () => {
    const { url } = await startGateway({ NODE_ENV: 'production', PUBLIC_ROOMS: 'lobby*' });
    const socket = await connectAs(url, 'ben', 'b1');
    expect(await socket.emitWithAck('room/join-rooms', { rooms: ['lobby:a', 'lobby:b'] })).toEqual({
      status: true, message: 'Joined rooms: lobby:a, lobby:b', rooms: ['lobby:a', 'lobby:b'], user: socket.id,
      results: [{ room: 'lobby:a', ok: true }, { room: 'lobby:b', ok: true }],
    });
    expect(await socket.emitWithAck('room/join-rooms', { rooms: ['lobby:c', 'vip'] })).toMatchObject({
      status: false, message: 'Error joining rooms: vip', rooms: ['lobby:c', 'vip'], user: socket.id,
      results: [{ room: 'lobby:c', ok: true }, { room: 'vip', error: { code: 'ROOM_FORBIDDEN' } }],
    });
    expect(await socket.emitWithAck('room/join-rooms', { rooms: [] })).toEqual(refusal('Error joining rooms', 'INVALID_BODY', {}));
  });

  it('room/leave-room takes the room as a plain string: "User left room: …", then "User is not in room: …" with status: false', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' });
    const socket = await connectAs(url, 'cy', 'c1');
    await socket.emitWithAck('room/join-room', { room: 'desk' });
    expect(await socket.emitWithAck('room/leave-room', 'desk')).toEqual({ ok: true, status: true, message: 'User left room: desk', room: 'desk' });
    expect(await socket.emitWithAck('room/leave-room', 'desk')).toEqual(refusal('User is not in room: desk', 'ROOM_FORBIDDEN', { room: 'desk' }));
    // Its own rooms are never left: the seed's generic failure wording, and the reason in error.
    expect(await socket.emitWithAck('room/leave-room', 'user:cy')).toEqual(refusal('Error leaving the room', 'ROOM_FORBIDDEN', { room: 'user:cy' }));
  });

  it('room/send-message { room, message } reaches every other socket of the room on both nodes as room/receive-message { room, message }', async () => {
    const { urls } = await startCluster(2, { PUBLIC_ROOMS: '*' });
    const [a, b] = urls as [string, string];
    const sender = await connectAs(a, 'dee', 'd1');
    const senderTab = await connectAs(b, 'dee', 'd2');
    const [member, outsider] = [await connectAs(b, 'eli', 'e1'), await connectAs(a, 'fox', 'f1')];
    const senderSaw = recordEvents(sender);
    const outsiderSaw = recordEvents(outsider);
    // Presence as the seed's client reads it: `({ room })` (Switchboard adds userId).
    const arrived = nextEvent<[{ room: string }]>(sender, 'room/user-connected');
    await sender.emitWithAck('room/join-room', { room: 'standup' });
    await member.emitWithAck('room/join-room', { room: 'standup' });
    expect((await arrived)[0]).toEqual({ room: 'standup', userId: 'eli' });
    await senderTab.emitWithAck('room/join-room', { room: 'standup' });

    const received = [nextEvent<[{ room: string; message: string }]>(member, 'room/receive-message'), nextEvent<[{ room: string; message: string }]>(senderTab, 'room/receive-message')];
    const response = await sender.emitWithAck('room/send-message', { room: 'standup', message: 'hello room' });
    expect(response).toEqual({ ok: true, status: true, message: 'message received', room: 'standup', id: expect.any(String) });
    for (const [{ room, message }] of await Promise.all(received)) expect({ room, message }).toEqual({ room: 'standup', message: 'hello room' });
    await flush(a, sender, outsider);
    expect(senderSaw.map((e) => e.event).filter((e) => e === 'room/receive-message')).toEqual([]); // not echoed to the sending socket
    expect(outsiderSaw.map((e) => e.event)).toEqual(['test:marker']);
  });

  it('room/send-message refuses a room the socket is not in, and every refusal (here the rate limit) keeps the seed\'s shape', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*', CLIENT_EVENTS_PER_SECOND: '2' });
    const socket = await connectAs(url, 'gus', 'g1');
    expect(await socket.emitWithAck('room/send-message', { room: 'elsewhere', message: 'hi' }))
      .toEqual(refusal('User is not in room: elsewhere', 'ROOM_FORBIDDEN', { room: 'elsewhere' }));
    const replies = await Promise.all(Array.from({ length: 4 }, () => socket.emitWithAck('room/leave-room', 'lobby')));
    expect(replies.at(-1)).toEqual(refusal('Error leaving the room', 'RATE_LIMITED', { room: 'lobby' }));
  });
});

describe("seed 004's single chat to a socket id", () => {
  async function twoNodes(env: Record<string, string> = {}) {
    const { nodes, urls } = await startCluster(2, { PUBLIC_ROOMS: '*', ...env });
    const alice = await connectAs(urls[0]!, 'alice', 'a1');
    const bob = await connectAs(urls[1]!, 'bob', 'b1');
    await untilVisible(nodes[0]!, bob.id!);
    return { nodes, urls, alice, bob };
  }

  it('{ message, target_socket_id } delivers the message itself to that socket on another node; acks "message received"', async () => {
    const { urls, alice, bob } = await twoNodes();
    const bobTab = await connectAs(urls[1]!, 'bob', 'b2');
    const bobTabSaw = recordEvents(bobTab);
    const received = nextEvent<[string]>(bob, 'single-chat/receive-message');
    const response = await alice.emitWithAck('single-chat/send-message', { message: 'psst', target_socket_id: bob.id });
    expect(response).toEqual({ message: 'message received', id: expect.any(String), delivered: true });
    expect((await received)[0]).toBe('psst');
    await flush(urls[1]!, bobTab);
    expect(bobTabSaw.map((e) => e.event)).toEqual(['test:marker']); // that socket only, not the user's other tabs
  });

  it('refuses a socket id connected nowhere with NOT_FOUND', async () => {
    const { alice } = await twoNodes();
    expect(await alice.emitWithAck('single-chat/send-message', { message: 'anyone?', target_socket_id: 'AAAAAAAAAAAAAAAAAAAA' }))
      .toEqual({ error: { code: 'NOT_FOUND', message: 'No socket "AAAAAAAAAAAAAAAAAAAA" is connected', details: { field: 'target_socket_id' } } });
  });

  it('DIRECT_MESSAGE_SCOPE=shared-room: FORBIDDEN until both sockets are in a room they joined, for socket ids and user ids alike', async () => {
    const { alice, bob } = await twoNodes({ DIRECT_MESSAGE_SCOPE: 'shared-room' });
    const forbidden = { error: { code: 'FORBIDDEN', message: expect.stringContaining('shares no room') as string, details: { scope: 'shared-room' } } };
    expect(await alice.emitWithAck('single-chat/send-message', { message: 'hi', target_socket_id: bob.id })).toEqual(forbidden);
    expect(await alice.emitWithAck('single-chat/send-message', { to: 'bob', message: 'hi' })).toEqual(forbidden);
    await alice.emitWithAck('room/join-room', { room: 'team' });
    await bob.emitWithAck('room/join-room', { room: 'team' });
    const received = nextEvent<[string]>(bob, 'single-chat/receive-message');
    expect(await alice.emitWithAck('single-chat/send-message', { message: 'hi', target_socket_id: bob.id })).toMatchObject({ delivered: true });
    expect((await received)[0]).toBe('hi');
    expect(await alice.emitWithAck('single-chat/send-message', { to: 'bob', message: 'hi' })).toMatchObject({ delivered: true });
  });

  it('works on the Redis engine too: socket-id messages and room messages cross the adapter', async () => {
    const redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_DATA_PREFIX: 'seed-004:', PUBLIC_ROOMS: '*' };
    const [a, b] = [await startGateway(env), await startGateway(env)];
    const alice: Socket = await connectAs(a.url, 'alice', 'a1');
    const bob: Socket = await connectAs(b.url, 'bob', 'b1');
    await untilVisible(a, bob.id!);
    const direct = nextEvent<[string]>(bob, 'single-chat/receive-message');
    expect(await alice.emitWithAck('single-chat/send-message', { message: 'over redis', target_socket_id: bob.id })).toMatchObject({ message: 'message received' });
    expect((await direct)[0]).toBe('over redis');

    for (const socket of [alice, bob]) await socket.emitWithAck('room/join-room', { room: 'ops' });
    const inRoom = nextEvent<[{ room: string; message: string }]>(alice, 'room/receive-message');
    expect(await bob.emitWithAck('room/send-message', { room: 'ops', message: 'back' })).toMatchObject({ status: true, message: 'message received' });
    expect((await inRoom)[0]).toEqual({ room: 'ops', message: 'back' });
  });
});
