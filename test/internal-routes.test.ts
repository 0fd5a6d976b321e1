import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import {
  TEST_API_KEY, OFFSET, UUID, api, connectAs, expectConnectError, flush, nextEvent, recordEvents, signToken, startGateway,
} from './support/gateway.js';

const DEFAULT_INTERNAL_EVENTS = ['profile:update', 'account:update', 'auth:logout'];

type Refusal = { error: { code: string; message: string; details?: Record<string, unknown> } };
type EmitAnswer = Partial<Refusal> & { ok?: true; id?: string };
type ForceLogoutAnswer = Partial<Refusal> & { ok?: true; disconnected?: number };

/** Calls a seed-003 route with `Authorization: Bearer <key>` (the test key unless given). */
function internal<T>(url: string, route: 'emit' | 'force-logout', body: unknown, key: string = TEST_API_KEY) {
  return api<T>(url, `/internal/${route}`, { body, key });
}

const emit = (url: string, body: unknown, key?: string) => internal<EmitAnswer>(url, 'emit', body, key);

describe('POST /internal/emit', () => {
  it('emits an INTERNAL_EVENTS event to room user:{userId} as (payload, { id })', async () => {
    const { url } = await startGateway();
    const alice = await connectAs(url, 'alice', 's1');
    const bob = await connectAs(url, 'bob', 's2');
    const bobEvents = recordEvents(bob);
    const received = nextEvent(alice, 'profile:update');
    const response = await emit(url, { userId: 'alice', event: 'profile:update', payload: { name: 'Alice' } });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: true, id: expect.stringMatching(UUID), offset: 1 });
    expect(await received).toEqual([{ name: 'Alice' }, expect.objectContaining({ id: response.body.id }), OFFSET]);
    await flush(url, bob);
    expect(bobEvents.map((e) => e.event)).toEqual(['test:marker']);
  });

  it.each(DEFAULT_INTERNAL_EVENTS)('allows the default internal event %s', async (event) => {
    const { url } = await startGateway();
    const alice = await connectAs(url, 'alice', 's1');
    const received = nextEvent(alice, event);
    expect((await emit(url, { userId: 'alice', event, payload: 1 })).status).toBe(200);
    expect((await received)[0]).toBe(1);
  });

  it('refuses an event outside INTERNAL_EVENTS with 400 EVENT_NOT_ALLOWED naming the allowed events, and delivers nothing', async () => {
    const { url } = await startGateway();
    const alice = await connectAs(url, 'alice', 's1');
    const aliceEvents = recordEvents(alice);
    const response = await emit(url, { userId: 'alice', event: 'order:shipped', payload: {} });
    expect(response.status).toBe(400);
    expect(response.body.error?.code).toBe('EVENT_NOT_ALLOWED');
    for (const event of DEFAULT_INTERNAL_EVENTS) expect(response.body.error?.message).toContain(event);
    expect(response.body.error?.details?.allowed).toEqual(DEFAULT_INTERNAL_EVENTS);
    await flush(url, alice);
    expect(aliceEvents.map((e) => e.event)).toEqual(['test:marker']);
  });

  it('follows a configured INTERNAL_EVENTS', async () => {
    const { url } = await startGateway({ INTERNAL_EVENTS: 'custom:a' });
    const alice = await connectAs(url, 'alice', 's1');
    const received = nextEvent(alice, 'custom:a');
    expect((await emit(url, { userId: 'alice', event: 'custom:a', payload: 'x' })).status).toBe(200);
    expect((await received)[0]).toBe('x');
    const refused = await emit(url, { userId: 'alice', event: 'profile:update', payload: 'x' });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe('EVENT_NOT_ALLOWED');
    expect(refused.body.error?.details?.allowed).toEqual(['custom:a']);
  });

  it('refuses a body without userId with 400 INVALID_BODY naming userId', async () => {
    const { url } = await startGateway();
    const response = await emit(url, { event: 'profile:update', payload: {} });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_BODY', details: { field: 'userId' } });
    expect(response.body.error?.message).toContain('userId');
  });

  it('refuses a request without a key with 401 API_KEY_MISSING, and a wrong one with 401 API_KEY_INVALID', async () => {
    const { url } = await startGateway();
    const body = { userId: 'alice', event: 'profile:update' };
    const missing = await api<Refusal>(url, '/internal/emit', { body, key: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('API_KEY_MISSING');
    const wrong = await emit(url, body, 'wrong');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error?.code).toBe('API_KEY_INVALID');
  });
});

describe('internal key aliases (API_KEYS unset)', () => {
  const body = { userId: 'alice', event: 'profile:update', payload: {} };

  it.each([
    ['INTERNAL_SECRET', { INTERNAL_SECRET: 's1' }, 's1'],
    ['AUTH_TOKEN', { AUTH_TOKEN: 'tok-2' }, 'tok-2'],
    ['SECRET_KEY', { SECRET_KEY: 'key-3' }, 'key-3'],
  ])('accepts Bearer <%s>', async (_name, env, key) => {
    const { url } = await startGateway({ API_KEYS: '', ...env });
    expect((await emit(url, body, key)).status).toBe(200);
    expect((await api(url, '/v1/stats', { key })).status).toBe(200);
    const other = await emit(url, body, TEST_API_KEY);
    expect(other.status).toBe(401);
    expect(other.body.error?.code).toBe('API_KEY_INVALID');
  });

  it('prefers INTERNAL_SECRET over AUTH_TOKEN (AUTH_TOKEN is then refused)', async () => {
    const { url } = await startGateway({ API_KEYS: '', INTERNAL_SECRET: 's1', AUTH_TOKEN: 'tok-2' });
    expect((await emit(url, body, 's1')).status).toBe(200);
    const refused = await emit(url, body, 'tok-2');
    expect(refused.status).toBe(401);
    expect(refused.body.error?.code).toBe('API_KEY_INVALID');
  });
});

describe('POST /internal/force-logout', () => {
  /** bob in sessions s1 (kept), s2 and s3; carol elsewhere. Each socket records what it receives. */
  async function setup() {
    const { url } = await startGateway();
    const sockets = {
      keep: await connectAs(url, 'bob', 's1'),
      other1: await connectAs(url, 'bob', 's2'),
      other2: await connectAs(url, 'bob', 's3'),
      carol: await connectAs(url, 'carol', 'c1'),
    };
    return { url, ...sockets };
  }

  /** What a socket went through, in order: its events and its disconnect (with reason). */
  function timeline(socket: Socket): string[] {
    const seen: string[] = [];
    socket.onAny((event: string, payload: unknown) => seen.push(`${event} ${JSON.stringify(payload)}`));
    socket.on('disconnect', (reason) => seen.push(`disconnect ${reason}`));
    return seen;
  }

  const untilDisconnected = (socket: Socket) => new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));

  it("sends auth:logout then disconnects the user's other sessions, and answers their count", async () => {
    const { url, other1, other2 } = await setup();
    const timelines = [timeline(other1), timeline(other2)];
    const gone = [untilDisconnected(other1), untilDisconnected(other2)];
    const response = await internal<ForceLogoutAnswer>(url, 'force-logout', { userId: 'bob', sessionId: 's1' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: true, disconnected: 2 });
    await Promise.all(gone);
    for (const seen of timelines) {
      expect(seen).toEqual(['auth:logout {"reason":"force-logout"}', 'disconnect io server disconnect']);
    }
  });

  it('keeps the named session connected and receiving, and leaves other users untouched', async () => {
    const { url, keep, other1, other2, carol } = await setup();
    const [keepSeen, carolSeen] = [timeline(keep), timeline(carol)];
    const gone = [untilDisconnected(other1), untilDisconnected(other2)];
    expect((await internal(url, 'force-logout', { userId: 'bob', sessionId: 's1' })).status).toBe(200);
    await Promise.all(gone);

    const arrivals = [nextEvent(keep, 'after'), nextEvent(carol, 'after')];
    expect((await api(url, '/v1/publish', { body: { event: 'after', data: 1, users: ['bob', 'carol'] } })).status).toBe(200);
    await Promise.all(arrivals);
    expect(keep.connected && carol.connected).toBe(true);
    expect(keepSeen.map((line) => line.split(' ')[0])).toEqual(['after']);
    expect(carolSeen.map((line) => line.split(' ')[0])).toEqual(['after']);
  });

  it('then refuses other sessions of the user with SESSION_REVOKED, while the named session may connect', async () => {
    const { url, other1 } = await setup();
    const gone = untilDisconnected(other1);
    expect((await internal(url, 'force-logout', { userId: 'bob', sessionId: 's1' })).status).toBe(200);
    await gone;

    const refusal = await expectConnectError(url, { auth: { token: await signToken({ user_id: 'bob', session_id: 's-new' }) } });
    expect(refusal.data?.code).toBe('SESSION_REVOKED');
    const again = await connectAs(url, 'bob', 's1');
    expect(again.connected).toBe(true);
    expect((await connectAs(url, 'carol', 'c-new')).connected).toBe(true);
    const presence = await api(url, '/v1/users/bob');
    expect(presence.body).toMatchObject({ activeSession: 's1', sessions: ['s1'] });
  });

  it('answers { ok: true, disconnected: 0 } when the user has no other session', async () => {
    const { url } = await startGateway();
    const only = await connectAs(url, 'dave', 'd1');
    const response = await internal<ForceLogoutAnswer>(url, 'force-logout', { userId: 'dave', sessionId: 'd1' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: true, disconnected: 0 });
    await flush(url, only);
    expect(only.connected).toBe(true);
  });

  it('refuses a body without sessionId with 400 INVALID_BODY naming it', async () => {
    const { url } = await startGateway();
    const response = await internal<Refusal>(url, 'force-logout', { userId: 'bob' });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_BODY', details: { field: 'sessionId' } });
  });
});
