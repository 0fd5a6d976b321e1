import CryptoJS from 'crypto-js';
import { describe, expect, it } from 'vitest';
import {
  TEST_API_KEY, api, connectAs, connectClient, expectConnectError, flush, nextEvent, recordEvents, signToken, startGateway, type ErrorResponse,
} from './support/gateway.js';
import { generateJoinToken } from './support/join-token.js';


/** Production: no public rooms unless PUBLIC_ROOMS says so. */
const PRODUCTION_ROOMS = { NODE_ENV: 'production' };

/** The acks of room/join-room and room/leave-room: seed 004's fields beside Switchboard's `ok` (test/seed-004-client.test.ts has the rest). */
const joinedAck = (room: string, socketId: string) => ({ ok: true, status: true, message: `Joined room: ${room}`, room, user: socketId });
const leftAck = (room: string) => ({ ok: true, status: true, message: `User left room: ${room}`, room });

describe('seed 001: join tokens', () => {
  it('accepts a token made by the seed\'s own generateJoinToken and joins the channel', async () => {
    const { url } = await startGateway(PRODUCTION_ROOMS);
    const socket = await connectAs(url, 'ann', 's1');
    const reply = await socket.emitWithAck('join', generateJoinToken('test-123', { user_id: 1 }, TEST_API_KEY));
    expect(reply).toEqual({ ok: true, channel: 'test-123' });
    const delivered = nextEvent(socket, 'join-channel');
    const response = await api(url, '/api/socket/events', {
      key: null, headers: { 'x-api-key': TEST_API_KEY }, body: { channel: 'test-123', event: 'join-channel', data: { user_id: 1 } },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ok' });
    expect((await delivered)[0]).toEqual({ user_id: 1 });
  });

  it('accepts the HMAC-SHA256 tokens minted by POST /v1/join-tokens, also without an ack', async () => {
    const { url } = await startGateway(PRODUCTION_ROOMS);
    const minted = await api<{ token: string; channel: string; expiresAt: number }>(url, '/v1/join-tokens', { body: { channel: 'orders:42', ttlS: 30 } });
    expect(minted.status).toBe(200);
    expect(minted.body.expiresAt).toBeGreaterThan(Date.now() / 1000 + 20);
    const socket = await connectAs(url, 'ben', 's1');
    socket.emit('join', minted.body.token);
    await flush(url, socket);
    expect((await api<{ sockets: number }>(url, '/v1/rooms/orders:42')).body.sockets).toBe(1);
  });

  const refusals: [string, () => string, string][] = [
    ['an expired token', () => generateJoinToken('c', {}, TEST_API_KEY, -5), 'JOIN_TOKEN_EXPIRED'],
    ['a token signed with another key', () => generateJoinToken('c', {}, 'another-key'), 'JOIN_TOKEN_INVALID'],
    ['a token that is not base64 of JSON + signature', () => 'not a token at all', 'JOIN_TOKEN_INVALID'],
    ['a token whose signature has the wrong length', () => Buffer.from(`{"channel":"c","timestamp":9999999999,"data":{}}abc123`).toString('base64'), 'JOIN_TOKEN_INVALID'],
    ['a token whose channel is longer than 512 characters', () => generateJoinToken('c'.repeat(513), {}, TEST_API_KEY), 'JOIN_TOKEN_INVALID'],
    ['a token with malformed JSON', () => Buffer.from(`{"channel":"c",}${CryptoJS.MD5(`{"channel":"c",}${TEST_API_KEY}`).toString()}`).toString('base64'), 'JOIN_TOKEN_INVALID'],
  ];
  for (const [name, token, code] of refusals) {
    it(`refuses ${name} with ${code}, acknowledged, and stays connected`, async () => {
      const { url } = await startGateway(PRODUCTION_ROOMS);
      const socket = await connectAs(url, 'cat', 's1');
      expect(await socket.emitWithAck('join', token())).toMatchObject({ error: { code } });
      expect(socket.connected).toBe(true);
    });
  }

  it('reports a refused join without an ack as join:error, and leaves with leave', async () => {
    const { url } = await startGateway(PRODUCTION_ROOMS);
    const socket = await connectAs(url, 'dan', 's1');
    const error = nextEvent(socket, 'join:error');
    socket.emit('join', 'garbage');
    expect((await error)[0]).toMatchObject({ error: { code: 'JOIN_TOKEN_INVALID' } });
    await socket.emitWithAck('join', generateJoinToken('room-x', {}, TEST_API_KEY));
    expect(await socket.emitWithAck('leave', 'room-x')).toEqual({ ok: true, channel: 'room-x' });
    expect((await api<{ sockets: number }>(url, '/v1/rooms/room-x')).body.sockets).toBe(0);
  });
});

describe('seed 001: POST /api/socket/events', () => {
  it('refuses a wrong content type (415), a missing channel or event (400) and a wrong key (401)', async () => {
    const { url } = await startGateway();
    const send = (body: unknown, headers: Record<string, string> = {}) =>
      api(url, '/api/socket/events', { key: null, headers: { 'x-api-key': TEST_API_KEY, ...headers }, body });
    expect((await send('channel=a', { 'content-type': 'text/plain' })).status).toBe(415);
    expect(await send({ event: 'e' })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY', details: { field: 'channel' } } } });
    expect(await send({ channel: 'c' })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY', details: { field: 'event' } } } });
    expect(await send({ channel: 'c', event: 'e' }, { 'x-api-key': 'wrong-key' })).toMatchObject({ status: 401, body: { error: { code: 'API_KEY_INVALID' } } });
  });

  it('accepts HTTP_API_KEY as one more key', async () => {
    const { url } = await startGateway({ HTTP_API_KEY: 'seed-001-http-api-key' });
    const response = await api(url, '/api/socket/events', { key: null, headers: { 'x-api-key': 'seed-001-http-api-key' }, body: { channel: 'c', event: 'e' } });
    expect(response).toMatchObject({ status: 200, body: { status: 'ok' } });
  });
});

describe('seed 004: room events and the join policy', () => {
  it('joins public rooms with room/join-room (name or { room }) and leaves with room/leave-room', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: 'lobby:*' });
    const socket = await connectAs(url, 'eve', 's1');
    const joined = nextEvent(socket, 'room/joined-room');
    expect(await socket.emitWithAck('room/join-room', 'lobby:1')).toEqual(joinedAck('lobby:1', socket.id!));
    expect((await joined)[0]).toEqual({ room: 'lobby:1' });
    expect(await socket.emitWithAck('room/join-room', { room: 'lobby:2' })).toEqual(joinedAck('lobby:2', socket.id!));
    const left = nextEvent(socket, 'room/left-room');
    expect(await socket.emitWithAck('room/leave-room', { room: 'lobby:1' })).toEqual(leftAck('lobby:1'));
    expect((await left)[0]).toEqual({ room: 'lobby:1' });
    expect(await socket.emitWithAck('room/leave-room', 'user:eve')).toMatchObject({ error: { code: 'ROOM_FORBIDDEN' } });
  });

  it('accepts the un-prefixed aliases and answers in kind', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' });
    const socket = await connectAs(url, 'fay', 's1');
    const joined = nextEvent(socket, 'joined-room');
    expect(await socket.emitWithAck('join-room', 'news')).toEqual(joinedAck('news', socket.id!));
    expect((await joined)[0]).toEqual({ room: 'news' });
    const left = nextEvent(socket, 'left-room');
    await socket.emitWithAck('leave-room', 'news');
    expect((await left)[0]).toEqual({ room: 'news' });
  });

  it('grants rooms from the JWT rooms claim, refuses the rest, never another user\'s rooms', async () => {
    const { url } = await startGateway(PRODUCTION_ROOMS);
    const socket = await connectClient(url, await signToken({ user_id: 'gus', rooms: ['chat:*', 'board'] }));
    const reply = await socket.emitWithAck('room/join-rooms', ['chat:lobby', 'board', 'admin', 'user:someone', 'session:x']);
    expect(reply).toMatchObject({
      status: false,
      results: [
        { room: 'chat:lobby', ok: true },
        { room: 'board', ok: true },
        { room: 'admin', error: expect.objectContaining({ code: 'ROOM_FORBIDDEN' }) },
        { room: 'user:someone', error: expect.objectContaining({ code: 'ROOM_FORBIDDEN' }) },
        { room: 'session:x', error: expect.objectContaining({ code: 'ROOM_FORBIDDEN' }) },
      ],
    });
    const other = await connectAs(url, 'hal', 's2');
    expect(await socket.emitWithAck('room/join-room', other.id)).toMatchObject({ error: { code: 'ROOM_FORBIDDEN' } });
    // Any name shaped like a socket id is refused, whichever node that socket may be on.
    expect(await socket.emitWithAck('room/join-room', 'AbCdEfGhIjKlMnOpQrSt')).toMatchObject({ error: { code: 'ROOM_FORBIDDEN' } });
    expect(await socket.emitWithAck('room/join-room', { nope: 1 })).toMatchObject({ error: { code: 'INVALID_BODY', details: { field: 'room' } } });
    expect(socket.connected).toBe(true);
  });

  it('refuses malformed room payloads with the INVALID_BODY an HTTP 400 gives: message and details.field naming the field', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' });
    const socket = await connectAs(url, 'ola', 's1');
    const http = await api<ErrorResponse>(url, '/v1/join-tokens', { body: { channel: '' } });
    expect(http).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY', message: 'channel must NOT have fewer than 1 characters', details: { field: 'channel' } } } });
    const tooShort = { error: { code: 'INVALID_BODY', message: 'room must NOT have fewer than 1 characters', details: { field: 'room' } } };
    expect(await socket.emitWithAck('room/join-room', { room: '' })).toMatchObject(tooShort);
    expect(await socket.emitWithAck('room/join-room', '')).toMatchObject(tooShort);
    expect(await socket.emitWithAck('room/leave-room', 42)).toMatchObject({ error: { code: 'INVALID_BODY', message: 'room must be string', details: { field: 'room' } } });
    expect(await socket.emitWithAck('room/join-rooms', ['a', 5])).toMatchObject({ error: { code: 'INVALID_BODY', message: 'rooms[1] must be string', details: { field: 'rooms[1]' } } });
    expect(await socket.emitWithAck('room/join-rooms', { rooms: [] })).toMatchObject({ error: { code: 'INVALID_BODY', message: 'rooms must NOT have fewer than 1 items', details: { field: 'rooms' } } });
    expect(Object.keys(http.body.error).sort()).toEqual(Object.keys(tooShort.error).sort());
    expect(socket.connected).toBe(true);
  });

  it('refuses room names with NUL or other control characters wherever a room is named, and takes any other character', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' });
    const socket = await connectAs(url, 'ola', 's1');
    const refusal = (field: string, code = 'INVALID_BODY') => ({ error: { code, message: `${field} must not contain control characters`, details: { field } } });
    expect(await socket.emitWithAck('room/join-room', 'lobby\u0000admin')).toMatchObject(refusal('room'));
    expect(await socket.emitWithAck('room/join-room', { room: 'line\nbreak' })).toMatchObject(refusal('room'));
    expect(await socket.emitWithAck('room/join-rooms', ['fine', 'del\u007f'])).toMatchObject(refusal('rooms[1]'));
    expect(await socket.emitWithAck('room/leave-room', 'esc\u001b[31m')).toMatchObject(refusal('room'));
    expect(await api(url, '/v1/publish', { body: { event: 'note', rooms: ['ok', 'nul\u0000'] } })).toMatchObject({ status: 400, body: refusal('rooms[1]') });
    expect(await api(url, '/v1/join-tokens', { body: { channel: 'tab\there' } })).toMatchObject({ status: 400, body: refusal('channel') });
    expect(await api(url, '/v1/rooms/nul%00room/presence')).toMatchObject({ status: 400, body: refusal('room', 'INVALID_QUERY') });

    expect(await socket.emitWithAck('room/join-room', 'café ☕ 部屋 \u00a0')).toEqual(joinedAck('café ☕ 部屋 \u00a0', socket.id!));
    expect(socket.connected).toBe(true);
  });

  it('limits the rooms a socket may join (MAX_ROOMS_PER_SOCKET)', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*', MAX_ROOMS_PER_SOCKET: '2' });
    const socket = await connectAs(url, 'ivy', 's1');
    const { results } = (await socket.emitWithAck('room/join-rooms', { rooms: ['a', 'b', 'c'] })) as { results: unknown[] };
    expect(results[2]).toMatchObject({ room: 'c', error: { code: 'ROOM_LIMIT_REACHED' } });
    expect(await socket.emitWithAck('room/join-room', 'a')).toEqual(joinedAck('a', socket.id!));
  });

  it('delivers publishes to a joined room and not after leaving it', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' });
    const socket = await connectAs(url, 'jon', 's1');
    const seen = recordEvents(socket);
    await socket.emitWithAck('room/join-room', 'room-1');
    await api(url, '/v1/publish', { body: { event: 'inside', rooms: ['room-1'] } });
    await socket.emitWithAck('room/leave-room', 'room-1');
    await api(url, '/v1/publish', { body: { event: 'outside', rooms: ['room-1'] } });
    await flush(url, socket);
    expect(seen.map((e) => e.event).filter((e) => e === 'inside' || e === 'outside')).toEqual(['inside']);
  });
});

describe('seed 001: ALLOW_REQUEST_DOMAINS', () => {
  it('allows an Origin on a listed domain or its subdomains, refuses look-alikes on HTTP and sockets', async () => {
    const { url } = await startGateway({ ALLOW_REQUEST_DOMAINS: 'foo.com, bar.me' });
    const status = async (origin?: string) => (await api(url, '/v1/stats', { headers: origin === undefined ? {} : { origin } })).status;
    expect(await status('https://app.foo.com')).toBe(200);
    expect(await status('https://bar.me')).toBe(200);
    expect(await status()).toBe(200);
    expect(await status('https://foo.com.evil.com')).toBe(403);
    expect(await status('https://evilfoo.com')).toBe(403);
    const token = await signToken();
    expect((await expectConnectError(url, { auth: { token }, extraHeaders: { origin: 'https://evilfoo.com' } })).data?.code).toBe('ORIGIN_FORBIDDEN');
    await connectClient(url, token, { extraHeaders: { origin: 'https://www.foo.com' } });
  });
});

describe('rooms: the rooms a socket is in', () => {
  it('answers its own rooms and the joined ones, also to an ack sent without a payload (emitWithAck("rooms"))', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' });
    const socket = await connectClient(url, await signToken({ user_id: 'rita', session_id: 'rita-phone', roles: ['editor'] }));
    await socket.emitWithAck('room/join-room', 'chat:lobby');
    const expected = { own: ['user:rita', 'session:rita-phone', 'role:editor'], joined: ['chat:lobby'] };
    expect(await socket.timeout(3000).emitWithAck('rooms')).toEqual(expected);
    expect(await socket.timeout(3000).emitWithAck('rooms', null)).toEqual(expected);
  });
});
