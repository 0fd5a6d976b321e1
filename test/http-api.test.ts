import v8 from 'node:v8';
import vm from 'node:vm';
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import {
  TEST_API_KEY, OFFSET, UUID, api, connectAs, disconnectReason, flush, nextEvent, recordEvents, startGateway,
  type ApiResponse, type ErrorResponse,
} from './support/gateway.js';

function publish(url: string, body: unknown, options: { key?: string | null; headers?: Record<string, string> } = {}) {
  return api<{ id: string; epoch?: string; offset?: number } & Partial<ErrorResponse>>(url, '/v1/publish', { body, ...options });
}

/** Asserts a catalog refusal: the status, the code, a message, never a 500. */
function expectRefusal(response: ApiResponse<unknown>, status: number, code: string): ErrorResponse['error'] {
  expect(response.status).toBe(status);
  const { error } = response.body as ErrorResponse;
  expect(error).toMatchObject({ code, message: expect.any(String) });
  expect(error.message.length).toBeGreaterThan(0);
  return error;
}

const names = (events: { event: string }[]) => events.map((e) => e.event);

describe('POST /v1/publish', () => {
  describe('targets', () => {
    it('delivers (data, { id }) to a user and answers a uuid id', async () => {
      const { url } = await startGateway();
      const alice = await connectAs(url, 'alice', 's1');
      const received = nextEvent(alice, 'order:shipped');
      const response = await publish(url, { event: 'order:shipped', data: { orderId: 7 }, users: ['alice'] });
      expect(response.status).toBe(200);
      expect(response.body.id).toMatch(UUID);
      // The third argument is Socket.IO's connection-state recovery offset.
      // Meta: the id, and the message's place in the room history; then Socket.IO's recovery offset.
      const history = { 'user:alice': { epoch: response.body.epoch, offset: response.body.offset } };
      expect(response.body).toMatchObject({ epoch: expect.any(String), offset: 1, history });
      expect(await received).toEqual([{ orderId: 7 }, { id: response.body.id, history }, OFFSET]);
    });

    it('delivers to every socket of a user, and not to other users', async () => {
      const { url } = await startGateway();
      const [a1, a2, bob] = [await connectAs(url, 'alice', 's1'), await connectAs(url, 'alice', 's2'), await connectAs(url, 'bob', 's3')];
      const bobEvents = recordEvents(bob);
      const arrivals = [nextEvent(a1, 'note'), nextEvent(a2, 'note')];
      expect((await publish(url, { event: 'note', data: 1, users: ['alice'] })).status).toBe(200);
      expect(await Promise.all(arrivals)).toEqual([[1, expect.objectContaining({ id: expect.stringMatching(UUID) }), OFFSET], [1, expect.objectContaining({ id: expect.stringMatching(UUID) }), OFFSET]]);
      await flush(url, bob);
      expect(names(bobEvents)).toEqual(['test:marker']);
    });

    it('delivers to a session (room session:{id}) only', async () => {
      const { url } = await startGateway();
      const s1 = await connectAs(url, 'alice', 's1');
      const s2 = await connectAs(url, 'alice', 's2');
      const s2Events = recordEvents(s2);
      const received = nextEvent(s1, 'note');
      expect((await publish(url, { event: 'note', data: 'x', sessions: ['s1'] })).status).toBe(200);
      expect((await received)[0]).toBe('x');
      await flush(url, s2);
      expect(names(s2Events)).toEqual(['test:marker']);
    });

    it('delivers to named rooms', async () => {
      const { url } = await startGateway();
      const alice = await connectAs(url, 'alice', 's1');
      const bob = await connectAs(url, 'bob', 's2');
      const aliceEvents = recordEvents(alice);
      const received = nextEvent(bob, 'note');
      expect((await publish(url, { event: 'note', data: 'for bob', rooms: ['user:bob'] })).status).toBe(200);
      expect((await received)[0]).toBe('for bob');
      await flush(url, alice);
      expect(names(aliceEvents)).toEqual(['test:marker']);
    });

    it('delivers once to a socket that is in several targeted rooms', async () => {
      const { url } = await startGateway();
      const alice = await connectAs(url, 'alice', 's1');
      const bob = await connectAs(url, 'bob', 's2');
      const aliceEvents = recordEvents(alice);
      const bobReceived = nextEvent(bob, 'note');
      const response = await publish(url, { event: 'note', users: ['alice'], sessions: ['s1'], rooms: ['user:alice', 'user:bob'] });
      expect(response.status).toBe(200);
      await bobReceived;
      await flush(url, alice);
      expect(names(aliceEvents)).toEqual(['note', 'test:marker']);
    });

    it.each([
      ['session room', () => 'session:s1'],
      ['socket id room', (s1: Socket) => s1.id!],
    ])('skips the socket excepted by its %s', async (_label, exceptRoom) => {
      const { url } = await startGateway();
      const s1 = await connectAs(url, 'alice', 's1');
      const s2 = await connectAs(url, 'alice', 's2');
      const s1Events = recordEvents(s1);
      const received = nextEvent(s2, 'note');
      expect((await publish(url, { event: 'note', users: ['alice'], except: [exceptRoom(s1)] })).status).toBe(200);
      await received;
      await flush(url, s1);
      expect(names(s1Events)).toEqual(['test:marker']);
    });

    it('broadcast: true reaches every connected client', async () => {
      const { url } = await startGateway();
      const sockets = [await connectAs(url, 'alice', 's1'), await connectAs(url, 'bob', 's2'), await connectAs(url, 'carol', 's3')];
      const arrivals = sockets.map((socket) => nextEvent(socket, 'announcement'));
      const response = await publish(url, { event: 'announcement', data: { text: 'hi' }, broadcast: true });
      expect(response.status).toBe(200);
      for (const args of await Promise.all(arrivals)) expect(args).toEqual([{ text: 'hi' }, { id: response.body.id }, OFFSET]);
    });
  });

  describe('refusals', () => {
    it('refuses a publish without target with 400 NO_TARGET', async () => {
      const { url } = await startGateway();
      expectRefusal(await publish(url, { event: 'note', data: 1 }), 400, 'NO_TARGET');
      expectRefusal(await publish(url, { event: 'note', users: [], rooms: [], broadcast: false }), 400, 'NO_TARGET');
    });

    it.each(['connect', 'disconnect', 'connect_error'])('refuses the reserved event name %s with 400 EVENT_RESERVED', async (event) => {
      const { url } = await startGateway();
      expectRefusal(await publish(url, { event, broadcast: true }), 400, 'EVENT_RESERVED');
    });

    it.each([
      ['empty', ''],
      ['201-character', 'e'.repeat(201)],
    ])('refuses an %s event name with 400 INVALID_BODY naming event', async (_label, event) => {
      const { url } = await startGateway();
      const error = expectRefusal(await publish(url, { event, broadcast: true }), 400, 'INVALID_BODY');
      expect(error.details?.field).toBe('event');
    });

    it('accepts a 200-character event name', async () => {
      const { url } = await startGateway();
      const alice = await connectAs(url, 'alice', 's1');
      const event = 'e'.repeat(200);
      const received = nextEvent(alice, event);
      expect((await publish(url, { event, users: ['alice'] })).status).toBe(200);
      await received;
    });

    it('refuses an unknown body field with 400 INVALID_BODY naming it', async () => {
      const { url } = await startGateway();
      const error = expectRefusal(await publish(url, { event: 'note', users: ['alice'], room: ['x'] }), 400, 'INVALID_BODY');
      expect(error.details?.field).toBe('room');
      expect(error.message).toContain('room');
    });

    it('refuses rooms that is not an array with 400 INVALID_BODY', async () => {
      const { url } = await startGateway();
      const error = expectRefusal(await publish(url, { event: 'note', rooms: 'user:alice' }), 400, 'INVALID_BODY');
      expect(error.details?.field).toBe('rooms');
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded'])('refuses a %s body with 415 UNSUPPORTED_MEDIA_TYPE', async (type) => {
      const { url } = await startGateway();
      const body = JSON.stringify({ event: 'note', broadcast: true });
      expectRefusal(await publish(url, body, { headers: { 'content-type': type } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('refuses malformed JSON with 400 INVALID_JSON', async () => {
      const { url } = await startGateway();
      expectRefusal(await publish(url, '{"event": "note", '), 400, 'INVALID_JSON');
    });

    it('refuses data nested deeper than 64 levels with 400 INVALID_BODY naming data (never a 500)', async () => {
      const { url } = await startGateway();
      const deep = `{"event":"note","broadcast":true,"data":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
      const error = expectRefusal(await publish(url, deep), 400, 'INVALID_BODY');
      expect(error.details).toEqual({ field: 'data' });
      const nested64 = JSON.parse(`${'['.repeat(63)}1${']'.repeat(63)}`) as unknown;
      expect((await publish(url, { event: 'note', broadcast: true, data: { list: nested64 } })).status).toBe(200);
    });

    it('refuses __proto__ keys with 400 INVALID_BODY', async () => {
      const { url } = await startGateway();
      expectRefusal(await publish(url, '{"event":"note","broadcast":true,"data":{"__proto__":{"admin":true}}}'), 400, 'INVALID_BODY');
    });

    it('refuses a body over MAX_PAYLOAD_BYTES with 413 PAYLOAD_TOO_LARGE and keeps none of it', async () => {
      const { url } = await startGateway({ MAX_PAYLOAD_BYTES: '2048' });
      const huge = JSON.stringify({ event: 'note', broadcast: true, data: 'x'.repeat(1024 * 1024) });
      expectRefusal(await publish(url, huge), 413, 'PAYLOAD_TOO_LARGE'); // warm-up: code paths loaded
      const gc = exposeGc();
      gc();
      const before = process.memoryUsage();
      for (let i = 0; i < 8; i += 1) expectRefusal(await publish(url, huge), 413, 'PAYLOAD_TOO_LARGE');
      gc();
      const after = process.memoryUsage();
      const MB = 1024 * 1024;
      // 8 MB were sent; the gateway runs in this process, so retaining the bodies would show here.
      expect((after.heapUsed - before.heapUsed) / MB).toBeLessThan(4);
      // RSS also moves with fetch's own buffers in this process: only a gross jump is a failure.
      expect((after.rss - before.rss) / MB).toBeLessThan(64);
      expect((await publish(url, { event: 'note', broadcast: true })).status).toBe(200);
    });
  });

  describe('API key', () => {
    it('refuses a request without key with 401 API_KEY_MISSING', async () => {
      const { url } = await startGateway();
      expectRefusal(await publish(url, { event: 'note', broadcast: true }, { key: null }), 401, 'API_KEY_MISSING');
    });

    it('refuses a wrong key with 401 API_KEY_INVALID', async () => {
      const { url } = await startGateway();
      expectRefusal(await publish(url, { event: 'note', broadcast: true }, { key: 'not-the-key' }), 401, 'API_KEY_INVALID');
      expectRefusal(await publish(url, { event: 'note', broadcast: true }, { key: null, headers: { 'x-api-key': 'nope' } }), 401, 'API_KEY_INVALID');
    });

    it.each([
      ['1 character', 'k'],
      ['10 KB', 'k'.repeat(10 * 1024)],
      ['the key plus one character', `${TEST_API_KEY}x`],
    ])('refuses a key of another length (%s) with 401, never 500', async (_label, key) => {
      const { url } = await startGateway();
      expectRefusal(await publish(url, { event: 'note', broadcast: true }, { key }), 401, 'API_KEY_INVALID');
      expectRefusal(await publish(url, { event: 'note', broadcast: true }, { key: null, headers: { 'x-api-key': key } }), 401, 'API_KEY_INVALID');
    });

    it('accepts the key as X-Api-Key as well as Authorization: Bearer', async () => {
      const { url } = await startGateway();
      const alice = await connectAs(url, 'alice', 's1');
      const viaBearer = nextEvent(alice, 'via-bearer');
      expect((await publish(url, { event: 'via-bearer', users: ['alice'] })).status).toBe(200);
      await viaBearer;
      const viaHeader = nextEvent(alice, 'via-header');
      expect((await publish(url, { event: 'via-header', users: ['alice'] }, { key: null, headers: { 'x-api-key': TEST_API_KEY } })).status).toBe(200);
      await viaHeader;
    });

    it('accepts every key of a comma-separated API_KEYS (rotation)', async () => {
      const { url } = await startGateway({ API_KEYS: 'old-key-1111, new-key-2222' });
      for (const key of ['old-key-1111', 'new-key-2222']) {
        expect((await publish(url, { event: 'note', broadcast: true }, { key })).status).toBe(200);
        expect((await api(url, '/v1/stats', { key: null, headers: { 'x-api-key': key } })).status).toBe(200);
      }
      expectRefusal(await publish(url, { event: 'note', broadcast: true }, { key: TEST_API_KEY }), 401, 'API_KEY_INVALID');
    });

    it('checks the key before the body: an unauthenticated bad body gets 401', async () => {
      const { url } = await startGateway({ MAX_PAYLOAD_BYTES: '2048' });
      expectRefusal(await publish(url, '{not json', { key: null }), 401, 'API_KEY_MISSING');
      expectRefusal(await publish(url, { event: 'connect' }, { key: 'wrong' }), 401, 'API_KEY_INVALID');
      expectRefusal(await publish(url, 'x', { key: null, headers: { 'content-type': 'text/plain' } }), 401, 'API_KEY_MISSING');
      expectRefusal(await publish(url, JSON.stringify({ data: 'x'.repeat(100_000) }), { key: 'wrong' }), 401, 'API_KEY_INVALID');
    });

    it('guards every /v1 route', async () => {
      const { url } = await startGateway();
      for (const path of ['/v1/stats', '/v1/rooms', '/v1/rooms/user:alice', '/v1/users/alice']) {
        expectRefusal(await api(url, path, { key: null }), 401, 'API_KEY_MISSING');
      }
      expectRefusal(await api(url, '/v1/batch', { key: null, body: [] }), 401, 'API_KEY_MISSING');
      expectRefusal(await api(url, '/v1/users/alice/disconnect', { key: null, method: 'POST' }), 401, 'API_KEY_MISSING');
    });
  });

  it('answers malformed URLs and over-long path parameters from the catalog, and accepts 512-character names', async () => {
    const { url } = await startGateway();
    const badEncoding = await api(url, '/v1/users/%');
    expectRefusal(badEncoding, 400, 'INVALID_QUERY');
    expectRefusal(await api(url, `/v1/rooms/${'r'.repeat(513)}`), 400, 'INVALID_QUERY');
    const longRoom = `user:${'r'.repeat(507)}`;
    expect(await api(url, `/v1/rooms/${longRoom}`)).toMatchObject({ status: 200, body: { room: longRoom, sockets: 0 } });
  });

  it('answers an unknown route with 404 NOT_FOUND in the error shape', async () => {
    const { url } = await startGateway();
    expectRefusal(await api(url, '/nope'), 404, 'NOT_FOUND');
    expectRefusal(await api(url, '/v1/nope'), 404, 'NOT_FOUND');
    expectRefusal(await api(url, '/v1/publishx', { body: { event: 'note', broadcast: true } }), 404, 'NOT_FOUND');
  });
});

describe('compatibility surface switches', () => {
  it.each([
    ['INTERNAL_API', '/internal/emit', { userId: 'alice', event: 'profile:update', payload: {} }],
    ['CHANNEL_EVENTS_API', '/api/socket/events', { channel: 'news', event: 'note' }],
    ['EVENT_GATEWAY_API', '/events/note', { rooms: ['news'] }],
  ])('with %s=false answers %s 404 NOT_FOUND and still serves /v1', async (variable, route, body) => {
    const { url } = await startGateway({ [variable]: 'false' });
    expectRefusal(await api(url, route, { body }), 404, 'NOT_FOUND');
    expect((await publish(url, { event: 'note', broadcast: true })).status).toBe(200);
  });
});

describe('GET /v1/users/{userId}', () => {
  it('lists the connections, their rooms and the sessions of a connected user', async () => {
    const { url } = await startGateway();
    const before = Date.now();
    const s1 = await connectAs(url, 'alice', 's1');
    const s2 = await connectAs(url, 'alice', 's2');
    await connectAs(url, 'bob', 's3');
    expect(await s2.emitWithAck('room/join-room', 'chat:lobby')).toMatchObject({ ok: true });
    const after = Date.now();
    const response = await api<Record<string, unknown> & { connections: { connectedAt: number }[] }>(url, '/v1/users/alice');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      userId: 'alice',
      online: true,
      connections: expect.arrayContaining([
        { socketId: s1.id, userId: 'alice', sessionId: 's1', connectedAt: expect.any(Number), rooms: ['user:alice', 'session:s1'] },
        { socketId: s2.id, userId: 'alice', sessionId: 's2', connectedAt: expect.any(Number), rooms: ['user:alice', 'session:s2', 'chat:lobby'] },
      ]),
      sessions: expect.arrayContaining(['s1', 's2']),
      activeSession: null,
    });
    expect(response.body.connections).toHaveLength(2);
    expect(response.body.sessions).toHaveLength(2);
    for (const { connectedAt } of response.body.connections) {
      expect(connectedAt).toBeGreaterThanOrEqual(before - 1000);
      expect(connectedAt).toBeLessThanOrEqual(after + 1000);
    }
  });

  it('answers an unknown user as offline with empty lists', async () => {
    const { url } = await startGateway();
    await connectAs(url, 'alice', 's1');
    const response = await api(url, '/v1/users/nobody');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ userId: 'nobody', online: false, connections: [], sessions: [], activeSession: null });
  });
});

describe('POST /v1/users/{userId}/disconnect', () => {
  async function threeSockets(url: string) {
    return { s1: await connectAs(url, 'alice', 's1'), s2: await connectAs(url, 'alice', 's2'), bob: await connectAs(url, 'bob', 's3') };
  }

  it('with { sessionId } disconnects only that session of the user', async () => {
    const { url } = await startGateway();
    const { s1, s2, bob } = await threeSockets(url);
    const gone = disconnectReason(s1);
    const response = await api(url, '/v1/users/alice/disconnect', { body: { sessionId: 's1' } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ disconnected: 1 });
    expect(await gone).toBe('io server disconnect');
    expect(s1.connected).toBe(false);
    const stillThere = [nextEvent(s2, 'after'), nextEvent(bob, 'after')];
    expect((await publish(url, { event: 'after', users: ['alice', 'bob'] })).status).toBe(200);
    await Promise.all(stillThere);
    expect(s2.connected && bob.connected).toBe(true);
  });

  it('without a body disconnects every socket of the user and no one else', async () => {
    const { url } = await startGateway();
    const { s1, s2, bob } = await threeSockets(url);
    const gone = [disconnectReason(s1), disconnectReason(s2)];
    const response = await api(url, '/v1/users/alice/disconnect', { method: 'POST' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ disconnected: 2 });
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
    const bobStays = nextEvent(bob, 'after');
    expect((await publish(url, { event: 'after', users: ['bob'] })).status).toBe(200);
    await bobStays;
    expect((await api(url, '/v1/users/alice')).body).toMatchObject({ online: false, connections: [] });
  });

  it('takes an empty body sent as application/json as no body', async () => {
    const { url } = await startGateway();
    const { s1 } = await threeSockets(url);
    const gone = disconnectReason(s1);
    const response = await api(url, '/v1/users/alice/disconnect', { method: 'POST', headers: { 'content-type': 'application/json' } });
    expect(response).toMatchObject({ status: 200, body: { disconnected: 2 } });
    expect(await gone).toBe('io server disconnect');
  });

  it('answers { disconnected: 0 } for a user without sockets', async () => {
    const { url } = await startGateway();
    const response = await api(url, '/v1/users/nobody/disconnect', { body: {} });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ disconnected: 0 });
  });
});

describe('GET /v1/rooms and /v1/rooms/{room}', () => {
  type Rooms = { rooms: { room: string; sockets: number }[] };

  it('lists the user: and session: rooms with their sizes, not socket-id rooms', async () => {
    const { url } = await startGateway();
    const sockets = [await connectAs(url, 'alice', 's1'), await connectAs(url, 'alice', 's2'), await connectAs(url, 'bob', 's3')];
    const response = await api<Rooms>(url, '/v1/rooms');
    expect(response.status).toBe(200);
    expect(new Set(response.body.rooms.map((r) => JSON.stringify(r)))).toEqual(new Set([
      { room: 'user:alice', sockets: 2 },
      { room: 'user:bob', sockets: 1 },
      { room: 'session:s1', sockets: 1 },
      { room: 'session:s2', sockets: 1 },
      { room: 'session:s3', sockets: 1 },
    ].map((r) => JSON.stringify(r))));
    const names = response.body.rooms.map((r) => r.room);
    for (const socket of sockets) expect(names).not.toContain(socket.id);
  });

  it('filters by ?prefix=', async () => {
    const { url } = await startGateway();
    await connectAs(url, 'alice', 's1');
    await connectAs(url, 'bob', 's2');
    const response = await api<Rooms>(url, '/v1/rooms?prefix=user:');
    expect(response.status).toBe(200);
    expect(response.body.rooms.map((r) => r.room).sort()).toEqual(['user:alice', 'user:bob']);
  });

  it('honours ?limit= and refuses a non-numeric one with 400 INVALID_QUERY', async () => {
    const { url } = await startGateway();
    await connectAs(url, 'alice', 's1');
    await connectAs(url, 'bob', 's2');
    const limited = await api<Rooms>(url, '/v1/rooms?limit=1');
    expect(limited.status).toBe(200);
    expect(limited.body.rooms).toHaveLength(1);
    expectRefusal(await api(url, '/v1/rooms?limit=abc'), 400, 'INVALID_QUERY');
  });

  it('answers the size of one room, 0 for an unknown room', async () => {
    const { url } = await startGateway();
    await connectAs(url, 'alice', 's1');
    await connectAs(url, 'alice', 's2');
    const known = await api(url, `/v1/rooms/${encodeURIComponent('user:alice')}`);
    expect(known.status).toBe(200);
    expect(known.body).toEqual({ room: 'user:alice', sockets: 2 });
    const unknown = await api(url, '/v1/rooms/user:nobody');
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ room: 'user:nobody', sockets: 0 });
  });
});

describe('GET /v1/stats', () => {
  it('counts connections, users, rooms and publications of the memory engine node', async () => {
    const { url } = await startGateway();
    await connectAs(url, 'alice', 's1');
    await connectAs(url, 'alice', 's2');
    await connectAs(url, 'bob', 's3');
    for (let i = 0; i < 2; i += 1) expect((await publish(url, { event: 'note', users: ['alice'] })).status).toBe(200);
    expect((await publish(url, { event: 'note' })).status).toBe(400); // refused: not counted
    const response = await api(url, '/v1/stats');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      connections: 3,
      users: 2,
      rooms: 5, // user:alice, user:bob, session:s1..s3
      published: 2,
      node: { id: expect.stringMatching(UUID), engine: 'memory' },
    });
  });
});

describe('health', () => {
  it('GET /healthz and GET /readyz answer 200 without a key while running', async () => {
    const { url } = await startGateway();
    const health = await api(url, '/healthz', { key: null });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await api(url, '/readyz', { key: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready' });
  });
});

/** `global.gc` without --expose-gc: enabling the flag at run time and fetching gc from a fresh context. */
function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}
