import { describe, expect, it } from 'vitest';
import { OFFSET, TEST_API_KEY, connectAs, flush, nextEvent, recordEvents, startGateway } from './support/gateway.js';
import { startReceiver } from './support/http-receiver.js';
import { generateJoinToken as seedJoinToken } from './support/join-token.js';
import { waitFor } from './support/wait.js';

const generateJoinToken = (channel: string, data: unknown) => seedJoinToken(channel, data, TEST_API_KEY);

describe('client events to rooms (CLIENT_EVENTS)', () => {
  it('relays a listed event to the room\'s other members with (data, { from, room })', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*', CLIENT_EVENTS: 'typing,client-*' });
    const [ann, ben] = [await connectAs(url, 'ann', 'a1'), await connectAs(url, 'ben', 'b1')];
    for (const socket of [ann, ben]) await socket.emitWithAck('room/join-room', 'chat:1');
    const annSeen = recordEvents(ann);
    const atBen = nextEvent(ben, 'typing');
    expect(await ann.emitWithAck('typing', { room: 'chat:1', data: { typing: true } })).toEqual({ ok: true });
    expect(await atBen).toEqual([{ typing: true }, { from: 'ann', room: 'chat:1' }, OFFSET]);
    await flush(url, ann);
    expect(annSeen.map((e) => e.event)).toEqual(['test:marker']);
  });

  it('refuses unlisted events (so no client can impersonate the server) and rooms the socket is not in', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*', CLIENT_EVENTS: 'typing' });
    const ann = await connectAs(url, 'ann', 'a1');
    await ann.emitWithAck('room/join-room', 'chat:1');
    expect(await ann.emitWithAck('auth:logout', { room: 'chat:1', data: {} })).toMatchObject({ error: { code: 'EVENT_UNKNOWN' } });
    expect(await ann.emitWithAck('typing', { room: 'chat:2', data: {} })).toMatchObject({ error: { code: 'ROOM_FORBIDDEN' } });
    expect(await ann.emitWithAck('typing', { data: {} })).toMatchObject({ error: { code: 'INVALID_BODY', details: { field: 'room' } } });
    expect(await ann.emitWithAck('typing', { room: 'chat:1', data: 'x'.repeat(11 * 1024) })).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('refuses a malformed payload with the INVALID_BODY an HTTP 400 gives, and takes channel for room (seed 001)', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*', CLIENT_EVENTS: 'typing' });
    const [ann, ben] = [await connectAs(url, 'ann', 'a1'), await connectAs(url, 'ben', 'b1')];
    for (const socket of [ann, ben]) await socket.emitWithAck('room/join-room', 'chat:1');
    expect(await ann.emitWithAck('typing', { data: {} })).toEqual({ error: { code: 'INVALID_BODY', message: 'room is required', details: { field: 'room' } } });
    expect(await ann.emitWithAck('typing', { room: 5, data: {} })).toEqual({ error: { code: 'INVALID_BODY', message: 'room must be string', details: { field: 'room' } } });
    expect(await ann.emitWithAck('typing', 'chat:1')).toEqual({ error: { code: 'INVALID_BODY', message: 'payload must be object', details: { field: 'payload' } } });
    const atBen = nextEvent(ben, 'typing');
    expect(await ann.emitWithAck('typing', { channel: 'chat:1', data: 1 })).toEqual({ ok: true });
    expect((await atBen).slice(0, 2)).toEqual([1, { from: 'ann', room: 'chat:1' }]);
  });

  it('POSTs events in a channel joined with a join token to its data.webhook_url (seed 001)', async () => {
    const hook = await startReceiver([204]);
    const { url } = await startGateway({ CLIENT_EVENTS: 'message' });
    const socket = await connectAs(url, 'cal', 'c1');
    expect(await socket.emitWithAck('join', generateJoinToken('support-7', { webhook_url: `${hook.url}/hook` }))).toEqual({ ok: true, channel: 'support-7' });
    await socket.emitWithAck('message', { channel: 'support-7', data: { text: 'help' } });
    await waitFor(() => hook.received.length > 0, { what: 'the webhook POST' });
    expect(hook.received.map((request) => [request.method, request.path])).toEqual([['POST', '/hook']]);
    expect(hook.received.map((request) => request.json)).toEqual([{ channel: 'support-7', event: 'message', data: { text: 'help' }, socketId: socket.id, userId: 'cal', ts: expect.any(Number) }]);
  });

  it('refuses join-token webhook URLs in production unless WEBHOOK_ALLOWED_HOSTS is set', async () => {
    const { url } = await startGateway({ NODE_ENV: 'production', CLIENT_EVENTS: 'message' });
    const socket = await connectAs(url, 'eli', 'e1');
    const reply = await socket.emitWithAck('join', generateJoinToken('x', { webhook_url: 'http://127.0.0.1:9/internal' }));
    expect(reply).toMatchObject({ error: { code: 'WEBHOOK_URL_FORBIDDEN' } });
  });

  it('refuses a join token whose webhook_url is not an allowed host', async () => {
    const { url } = await startGateway({ CLIENT_EVENTS: 'message', WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com' });
    const socket = await connectAs(url, 'dee', 'd1');
    const reply = await socket.emitWithAck('join', generateJoinToken('x', { webhook_url: 'http://169.254.169.254/latest' }));
    expect(reply).toMatchObject({ error: { code: 'WEBHOOK_URL_FORBIDDEN' } });
  });
});
