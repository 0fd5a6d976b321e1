import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, connectAs, connectClient, flush, nextEvent, recordEvents, signToken, startGateway } from './support/gateway.js';
import { startReceiver } from './support/http-receiver.js';
import { startRedis } from './support/redis.js';
import { sleep, waitFor } from './support/wait.js';

const names = (events: { event: string; args: unknown[] }[]) =>
  events.filter((e) => e.event.startsWith('room/user-')).map((e) => [e.event, e.args[0]]);

describe('room presence events', () => {
  it('announces a user once, on their first socket in and their last socket out (several tabs, disconnects)', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' });
    const watcher = await connectAs(url, 'watcher', 'w1');
    await watcher.emitWithAck('room/join-room', 'standup');
    const seen = recordEvents(watcher);
    const [tab1, tab2] = [await connectAs(url, 'kai', 'k1'), await connectAs(url, 'kai', 'k2')];
    await tab1.emitWithAck('room/join-room', 'standup');
    await tab2.emitWithAck('room/join-room', 'standup');
    await tab1.emitWithAck('room/leave-room', 'standup');
    await flush(url, watcher);
    expect(names(seen)).toEqual([['room/user-connected', { room: 'standup', userId: 'kai' }]]);
    tab2.disconnect();
    await sleep(100);
    await flush(url, watcher);
    expect(names(seen)).toEqual([
      ['room/user-connected', { room: 'standup', userId: 'kai' }],
      ['room/user-disconnected', { room: 'standup', userId: 'kai' }],
    ]);
  });

  it('announces nothing for a recovered blip, and the departure once the recovery window passed', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*', RECOVERY_WINDOW_MS: '1000' });
    const watcher = await connectAs(url, 'watcher', 'w1');
    await watcher.emitWithAck('room/join-room', 'desk');
    const seen = recordEvents(watcher);
    const blip = await connectAs(url, 'mia', 'm1', { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    await blip.emitWithAck('room/join-room', 'desk');
    const back = nextEvent(blip, 'connect');
    blip.io.engine.close();
    await back;
    expect(blip.recovered).toBe(true);
    await sleep(1300);
    await flush(url, watcher);
    expect(names(seen)).toEqual([['room/user-connected', { room: 'desk', userId: 'mia' }]]);

    const gone = nextEvent(watcher, 'room/user-disconnected', 3000);
    blip.io.reconnection(false);
    blip.io.engine.close();
    expect((await gone)[0]).toEqual({ room: 'desk', userId: 'mia' });
  });

  it('counts out at once a room a recovered socket leaves right after it is back (its first packet, buffered while away)', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' }); // the default 2-minute recovery window
    const watcher = await connectAs(url, 'watcher', 'w1');
    await watcher.emitWithAck('room/join-room', 'desk');
    const blip = await connectAs(url, 'ned', 'n1', { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    await blip.emitWithAck('room/join-room', 'desk');
    const back = nextEvent(blip, 'connect');
    const gone = nextEvent(watcher, 'room/user-disconnected', 5000);
    blip.io.engine.close();
    blip.emit('room/leave-room', 'desk'); // buffered by socket.io-client, sent first thing on the recovered connection
    await back;
    expect(blip.recovered).toBe(true);
    expect((await gone)[0]).toEqual({ room: 'desk', userId: 'ned' });
    const presence = await api<{ members: { userId: string }[] }>(url, '/v1/rooms/desk/presence');
    expect(presence.body.members.map((member) => member.userId)).toEqual(['watcher']);
  });

  it('announces across two nodes on Redis, once even when two tabs join on two nodes at once', async () => {
    const redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_DATA_PREFIX: 'presence-events:', PUBLIC_ROOMS: '*', PRESENCE_HEARTBEAT_MS: '500' };
    const [a, b] = [await startGateway(env), await startGateway(env)];
    const watcher = await connectAs(a.url, 'watcher', 'w1');
    await watcher.emitWithAck('room/join-room', 'ops');
    const seen = recordEvents(watcher);
    const [onA, onB] = [await connectAs(a.url, 'lea', 'l1'), await connectAs(b.url, 'lea', 'l2')];
    await Promise.all([onA.emitWithAck('room/join-room', 'ops'), onB.emitWithAck('room/join-room', 'ops')]);
    await sleep(200);
    await flush(a.url, watcher);
    expect(names(seen)).toEqual([['room/user-connected', { room: 'ops', userId: 'lea' }]]);
    await onA.emitWithAck('room/leave-room', 'ops');
    const gone = nextEvent(watcher, 'room/user-disconnected');
    await onB.emitWithAck('room/leave-room', 'ops');
    expect((await gone)[0]).toEqual({ room: 'ops', userId: 'lea' });
  });
});

describe('membership bookkeeping on Redis', () => {
  it('leaves no counts behind when a socket disconnects in the middle of join-rooms', async () => {
    const redis = await startRedis();
    const { url, gateway } = await startGateway({ REDIS_URL: redis.url, REDIS_DATA_PREFIX: 'mid-join:', PUBLIC_ROOMS: '*', RECOVERY_WINDOW_MS: '0' });
    const socket = await connectAs(url, 'ned', 'n1');
    const serverSocket = gateway.io.of('/').sockets.get(socket.id!)!;
    const rooms = Array.from({ length: 100 }, (_, i) => `r${i}`);
    // Redis freezes as soon as the first room is counted in, so the join loop stops at its next Redis call
    // (each room is joined locally, then counted in Redis) and cannot finish before Redis resumes.
    const firstJoined = new Promise<void>((resolve) =>
      socket.once('room/joined-room', () => {
        redis.pause();
        resolve();
      }),
    );
    let answered = false;
    socket.emit('room/join-rooms', rooms, () => (answered = true));
    await firstJoined;
    const joinedWhenFrozen = rooms.filter((room) => serverSocket.rooms.has(room));
    socket.disconnect();
    await waitFor(() => serverSocket.disconnected, { what: 'the gateway to see the disconnect' });
    // The disconnect landed during the join: some rooms in, not all, no answer, and Redis still frozen.
    expect(joinedWhenFrozen.length).toBeGreaterThan(0);
    expect(joinedWhenFrozen.length).toBeLessThan(rooms.length);
    expect(answered).toBe(false);
    redis.resume();
    await sleep(1500);
    expect(await redis.cli('KEYS', 'mid-join:{members:*')).toEqual([]);
    expect(gateway.io.of('/').sockets.size).toBe(0);
  });

  it('answers ENGINE_UNAVAILABLE when Redis cannot record a join, and the socket is not left in the room', async () => {
    const redis = await startRedis();
    const { url } = await startGateway({ REDIS_URL: redis.url, REDIS_DATA_PREFIX: 'paused-join:', PUBLIC_ROOMS: '*' });
    const socket = await connectAs(url, 'ola', 'o1');
    await sleep(300); // the server finishes setting the socket up (its session re-check reads Redis)
    redis.pause();
    const reply = await socket.timeout(8000).emitWithAck('room/join-room', 'frozen');
    redis.resume();
    expect(reply).toEqual({ status: false, message: 'Error joining room frozen', room: 'frozen', error: { code: 'ENGINE_UNAVAILABLE', message: expect.any(String), retryAfterS: 1 } });
    const final = (await socket.emitWithAck('room/members', 'frozen')) as { error: Record<string, unknown> };
    expect(final.error).toMatchObject({ code: 'ROOM_FORBIDDEN' });
    expect(final.error).not.toHaveProperty('retryAfterS');
  });

  it('lists a socket whose handshake waited on Redis: a token without a session under SESSION_POLICY=latest', async () => {
    const redis = await startRedis();
    const { url } = await startGateway({ REDIS_URL: redis.url, REDIS_DATA_PREFIX: 'slow-handshake:', SESSION_POLICY: 'latest' });
    // The handshake claims the session in Redis: frozen for longer than the presence writer's delay.
    redis.pause();
    const connecting = connectClient(url, await signToken({ user_id: 'pia', session_id: undefined }));
    await sleep(300);
    redis.resume();
    const socket = await connecting;
    await waitFor(async () => (await api<{ connections: { socketId: string }[] }>(url, '/v1/users/pia')).body.connections.length === 1, {
      what: 'GET /v1/users/pia to list the socket',
    });
    expect((await api<{ connections: { socketId: string }[] }>(url, '/v1/users/pia')).body.connections).toEqual([expect.objectContaining({ socketId: socket.id })]);
  });
});

describe('backend webhooks', () => {
  it('POSTs signed room.occupied, member.added, member.removed, room.vacated, and retries after a 500', async () => {
    const receiver = await startReceiver([500, 200]);
    const secret = 'webhook-secret-for-tests';
    const { url } = await startGateway({ PUBLIC_ROOMS: '*', WEBHOOK_URL: `${receiver.url}/hooks`, WEBHOOK_SECRET: secret });
    const socket = await connectAs(url, 'max', 'm1');
    await socket.emitWithAck('room/join-room', 'sales');
    await socket.emitWithAck('room/leave-room', 'sales');
    // The first request is answered 500 and comes again: four deliveries, five requests.
    await waitFor(() => receiver.received.length >= 5, { timeoutMs: 8000, intervalMs: 50, what: 'four webhooks and one retry' });
    const [refused, ...delivered] = receiver.received;
    const events = delivered.map((r) => r.json as { event: string; room: string; userId?: string });
    expect(events.map((e) => e.event).sort()).toEqual(['member.added', 'member.removed', 'room.occupied', 'room.vacated']);
    expect(events.every((e) => e.room === 'sales')).toBe(true);
    expect(receiver.received.every((r) => r.method === 'POST' && r.path === '/hooks')).toBe(true);
    expect(delivered.filter((r) => r.body === refused?.body)).toHaveLength(1);
    for (const { body, headers } of receiver.received) {
      const expected = createHmac('sha256', secret).update(`${String(headers['x-switchboard-timestamp'])}.${body}`).digest('hex');
      expect(headers['x-switchboard-signature']).toBe(`sha256=${expected}`);
    }
  });
});
