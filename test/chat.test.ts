import { describe, expect, it } from 'vitest';
import { api, connectAs, disconnectReason, nextEvent, startGateway, UUID } from './support/gateway.js';
import { startRedis } from './support/redis.js';
import { sleep } from './support/wait.js';

interface Received {
  id: string;
  from: string;
  message: unknown;
  ts: number;
}

describe('seed 004: single chat', () => {
  it('delivers to every socket of the recipient and acks the sender with the message id', async () => {
    const { url } = await startGateway();
    const alice = await connectAs(url, 'alice', 'a1');
    const [bobTab1, bobTab2] = [await connectAs(url, 'bob', 'b1'), await connectAs(url, 'bob', 'b2')];
    const arrivals = [nextEvent<[Received]>(bobTab1, 'single-chat/receive-message'), nextEvent<[Received]>(bobTab2, 'single-chat/receive-message')];
    const ack = (await alice.emitWithAck('single-chat/send-message', { to: 'bob', message: 'hi bob' })) as { id: string; delivered: boolean };
    expect(ack).toEqual({ id: expect.stringMatching(UUID), delivered: true });
    for (const [received] of await Promise.all(arrivals)) {
      expect(received).toEqual({ id: ack.id, from: 'alice', message: 'hi bob', ts: expect.any(Number) });
    }
  });

  it('says delivered: false for an offline recipient and keeps the message in their history', async () => {
    const { url } = await startGateway();
    const alice = await connectAs(url, 'alice', 'a1');
    const ack = (await alice.emitWithAck('single-chat/send-message', { to: 'carol', message: { text: 'later' } })) as { id: string; delivered: boolean };
    expect(ack.delivered).toBe(false);
    const history = await api<{ messages: { id: string; event: string; data: Received }[] }>(url, '/v1/rooms/user:carol/history');
    expect(history.body.messages).toEqual([expect.objectContaining({ id: ack.id, event: 'single-chat/receive-message', data: expect.objectContaining({ from: 'alice', message: { text: 'later' } }) })]);
  });

  it('refuses a message without recipient or body', async () => {
    const { url } = await startGateway();
    const alice = await connectAs(url, 'alice', 'a1');
    expect(await alice.emitWithAck('single-chat/send-message', { message: 'x' })).toMatchObject({ error: { code: 'INVALID_BODY', details: { field: 'to' } } });
    expect(await alice.emitWithAck('single-chat/send-message', { to: 'bob' })).toMatchObject({ error: { code: 'INVALID_BODY', details: { field: 'message' } } });
  });

  it('refuses a malformed message with the INVALID_BODY an HTTP 400 gives: message and details.field', async () => {
    const { url } = await startGateway();
    const alice = await connectAs(url, 'alice', 'a1');
    expect(await alice.emitWithAck('single-chat/send-message', { to: '', message: 'x' }))
      .toEqual({ error: { code: 'INVALID_BODY', message: 'to must NOT have fewer than 1 characters', details: { field: 'to' } } });
    expect(await alice.emitWithAck('single-chat/send-message', { message: 'x' }))
      .toEqual({ error: { code: 'INVALID_BODY', message: 'to is required', details: { field: 'to' } } });
    // A payload that is not an object at all is named `payload`, as HTTP names a whole body `body`.
    expect(await alice.emitWithAck('single-chat/send-message', 'hi bob'))
      .toEqual({ error: { code: 'INVALID_BODY', message: 'payload must be object', details: { field: 'payload' } } });
    expect(await alice.emitWithAck('room/members', { room: 7 }))
      .toEqual({ error: { code: 'INVALID_BODY', message: 'room must be string', details: { field: 'room' } } });
  });

  it('works across two nodes on Redis', async () => {
    const redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_DATA_PREFIX: 'chat-test:' };
    const [a, b] = [await startGateway(env), await startGateway(env)];
    const alice = await connectAs(a.url, 'alice', 'a1');
    const bob = await connectAs(b.url, 'bob', 'b1');
    await sleep(100);
    const toBob = nextEvent<[Received]>(bob, 'single-chat/receive-message');
    const ack = (await alice.emitWithAck('single-chat/send-message', { to: 'bob', message: 'across' })) as { id: string; delivered: boolean };
    expect(ack.delivered).toBe(true);
    expect((await toBob)[0]).toMatchObject({ id: ack.id, from: 'alice', message: 'across' });
    const toAlice = nextEvent<[Received]>(alice, 'single-chat/receive-message');
    await bob.emitWithAck('single-chat/send-message', { to: 'alice', message: 'back' });
    expect((await toAlice)[0]).toMatchObject({ from: 'bob', message: 'back' });
  });
});

describe('room members', () => {
  it('counts a user with several tabs as one member, over HTTP and with room/members', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' });
    const sockets = [await connectAs(url, 'dan', 'd1'), await connectAs(url, 'dan', 'd2'), await connectAs(url, 'eve', 'e1')];
    for (const socket of sockets) await socket.emitWithAck('room/join-room', 'standup');
    const members = [{ userId: 'dan', connections: 2 }, { userId: 'eve', connections: 1 }];
    const presence = await api<{ members: unknown[] }>(url, '/v1/rooms/standup/presence');
    expect(presence.body).toEqual({ room: 'standup', members: expect.arrayContaining(members) });
    expect(presence.body.members).toHaveLength(2);
    expect(await sockets[2]!.emitWithAck('room/members', 'standup')).toEqual({ room: 'standup', members: expect.arrayContaining(members) });
    const outsider = await connectAs(url, 'fay', 'f1');
    expect(await outsider.emitWithAck('room/members', 'standup')).toMatchObject({ error: { code: 'ROOM_FORBIDDEN' } });
  });

  it('gives one answer over HTTP and with room/members, from either node on Redis', async () => {
    const redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_DATA_PREFIX: 'members-test:', PUBLIC_ROOMS: '*' };
    const [a, b] = [await startGateway(env), await startGateway(env)];
    const sockets = [await connectAs(a.url, 'hal', 'h1'), await connectAs(b.url, 'hal', 'h2'), await connectAs(b.url, 'ivy', 'i1')];
    for (const socket of sockets) await socket.emitWithAck('room/join-room', 'retro');
    const members = { room: 'retro', members: expect.arrayContaining([{ userId: 'hal', connections: 2 }, { userId: 'ivy', connections: 1 }]) };
    for (const url of [a.url, b.url]) expect((await api(url, '/v1/rooms/retro/presence')).body).toEqual(members);
    for (const socket of [sockets[0]!, sockets[2]!]) expect(await socket.emitWithAck('room/members', 'retro')).toEqual(members);
  });
});

describe('client rate limit', () => {
  it('answers RATE_LIMITED past the burst, recovers after a pause, and disconnects a socket that keeps flooding', async () => {
    const { url } = await startGateway({ CLIENT_EVENTS_PER_SECOND: '5' });
    const socket = await connectAs(url, 'gil', 'g1');
    const replies = await Promise.all(Array.from({ length: 12 }, () => socket.emitWithAck('room/members', 'user:gil')));
    const codes = replies.map((reply) => ((reply as { error?: { code: string } }).error?.code ?? 'ok'));
    expect(codes.slice(0, 10)).toEqual(Array(10).fill('ok'));
    expect(codes.slice(10)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    // Transient: the ack carries the retry hint an HTTP 429 sends as Retry-After.
    expect(replies[10]).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String), retryAfterS: 1 } });
    await sleep(400);
    expect(await socket.emitWithAck('room/members', 'user:gil')).toMatchObject({ room: 'user:gil' });
    // A final refusal carries none.
    const final = (await socket.emitWithAck('room/members', 5)) as { error: Record<string, unknown> };
    expect(final.error).toMatchObject({ code: 'INVALID_BODY' });
    expect(final.error).not.toHaveProperty('retryAfterS');

    const gone = disconnectReason(socket);
    for (let i = 0; i < 40; i += 1) socket.emit('room/members', 'user:gil');
    expect(await gone).toBe('io server disconnect');
  });
});
