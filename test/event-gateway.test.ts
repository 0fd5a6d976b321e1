import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/load-config.js';
import { api, connectAs, connectClient, flush, nextEvent, recordEvents, signToken, startGateway } from './support/gateway.js';
import { startCluster } from './support/in-process-cluster.js';

/** The `sender` of seed 002's README example; the seed dispatched nothing without `sender.roles`. */
const SENDER = { roles: ['system'] };

describe('seed 002: POST {GATEWAY_BASE_PATH}/{eventName}', () => {
  it('emits to role rooms (sockets whose token has the role) and to rooms of that name', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' });
    const admin = await connectClient(url, await signToken({ user_id: 'root', roles: ['admin', 'ops'] }));
    const member = await connectAs(url, 'mo', 'm1');
    await member.emitWithAck('room/join-room', 'admin');
    const outsider = await connectAs(url, 'ozzy', 'o1');
    const outsiderSeen = recordEvents(outsider);
    const arrivals = [nextEvent(admin, 'collection:update'), nextEvent(member, 'collection:update')];
    const response = await api<{ id: string }>(url, '/events/collection:update', {
      body: { payload: { entity: 'users', action: 'update', id: 123 }, rooms: ['admin'], sender: { roles: ['system'] } },
    });
    expect(response.status).toBe(200);
    expect(response.body.id).toEqual(expect.any(String));
    for (const [payload] of await Promise.all(arrivals)) expect(payload).toEqual({ entity: 'users', action: 'update', id: 123 });
    await flush(url, outsider);
    expect(outsiderSeen.map((e) => e.event)).toEqual(['test:marker']);
  });

  it('sends to one user with payload.own, refuses no target, broadcasts only when asked', async () => {
    const { url } = await startGateway();
    const [pat, quinn] = [await connectAs(url, 'pat', 'p1'), await connectAs(url, 'quinn', 'q1')];
    const quinnSeen = recordEvents(quinn);
    const toPat = nextEvent(pat, 'db-change');
    expect((await api(url, '/events/db-change', { body: { payload: { own: 'pat', n: 1 }, sender: SENDER } })).status).toBe(200);
    expect((await toPat)[0]).toEqual({ own: 'pat', n: 1 });
    await flush(url, quinn);
    expect(quinnSeen.map((e) => e.event)).toEqual(['test:marker']);
    expect(await api(url, '/events/db-change', { body: { payload: { n: 2 }, sender: SENDER } })).toMatchObject({ status: 400, body: { error: { code: 'NO_TARGET' } } });
    const everyone = [nextEvent(pat, 'all'), nextEvent(quinn, 'all')];
    expect((await api(url, '/events/all', { body: { payload: 1, broadcast: true, sender: SENDER } })).status).toBe(200);
    await Promise.all(everyone);
    expect(await api(url, '/events/x', { key: null, body: { payload: 1, broadcast: true, sender: SENDER } })).toMatchObject({ status: 401 });
    expect(await api(url, '/events/connect', { body: { payload: 1, broadcast: true, sender: SENDER } })).toMatchObject({ status: 400, body: { error: { code: 'EVENT_RESERVED' } } });
  });

  for (const emit of ['payload', 'body'] as const) {
    it(`GATEWAY_EMIT=${emit}: a POST to one node reaches a role's socket on another with ${emit === 'body' ? 'the whole body, as the seed\'s server sent it (clients read data.payload)' : 'the payload, as the seed\'s README says'}`, async () => {
      const { urls } = await startCluster(2, emit === 'body' ? { GATEWAY_EMIT: 'body' } : {});
      const admin = await connectClient(urls[1]!, await signToken({ user_id: 'root', roles: ['admin'] }));
      const received = nextEvent<[Record<string, unknown>]>(admin, 'collection:update');
      const body = { payload: { entity: 'users', action: 'update', id: 123 }, rooms: ['admin'], sender: SENDER };
      const response = await api<{ status: string; id: string }>(urls[0]!, '/events/collection:update', { body });
      expect(response).toMatchObject({ status: 200, body: { status: 'ok', id: expect.any(String) } });
      const [data] = await received;
      expect(data).toEqual(emit === 'body' ? body : body.payload);
      if (emit === 'body') expect(data.payload).toEqual({ entity: 'users', action: 'update', id: 123 });
    });
  }

  it('refuses with 400, naming the field, a body without payload or sender.roles (the seed answered 200 and dispatched nothing)', async () => {
    const { url } = await startGateway();
    const socket = await connectAs(url, 'pat', 'p1');
    const seen = recordEvents(socket);
    const post = (body: unknown) => api(url, '/events/db-change', { body });
    expect(await post({ payload: { own: 'pat' } })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY', message: 'sender is required', details: { field: 'sender' } } } });
    expect(await post({ payload: { own: 'pat' }, sender: {} })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY', details: { field: 'sender.roles' } } } });
    expect(await post({ sender: SENDER, rooms: ['admin'] })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY', message: 'payload is required', details: { field: 'payload' } } } });
    await flush(url, socket);
    expect(seen.map((e) => e.event)).toEqual(['test:marker']);
    // Any roles the seed took as "has roles": a list (empty too) or a name.
    for (const roles of [[], 'system']) expect((await post({ payload: { own: 'pat' }, sender: { roles } })).status).toBe(200);
  });

  it('sends to the rooms and to payload.own when a body names both, as the seed did (once to a socket that is in both)', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' });
    const [pat, quinn, ozzy, bystander] = [await connectAs(url, 'pat', 'p1'), await connectAs(url, 'quinn', 'q1'), await connectAs(url, 'ozzy', 'o1'), await connectAs(url, 'bo', 'b1')];
    for (const socket of [pat, quinn]) await socket.emitWithAck('room/join-room', 'ops');
    const seen = [pat, quinn, ozzy, bystander].map(recordEvents);
    for (const own of ['ozzy', 'pat']) {
      expect((await api(url, '/events/db-change', { body: { payload: { own }, rooms: ['ops'], sender: SENDER } })).status).toBe(200);
    }
    await flush(url, pat, quinn, ozzy, bystander);
    const owns = (events: { event: string; args: unknown[] }[]) => events.filter((e) => e.event === 'db-change').map((e) => (e.args[0] as { own: string }).own);
    expect(seen.map(owns)).toEqual([['ozzy', 'pat'], ['ozzy', 'pat'], ['ozzy'], []]);
  });

  it('mounts at the root with GATEWAY_BASE_PATH=/ as the seed shows, leaving the other routes alone', async () => {
    const { url } = await startGateway({ GATEWAY_BASE_PATH: '/', TRANSACTIONS_API: 'false' });
    const socket = await connectAs(url, 'ray', 'r1');
    const got = nextEvent(socket, 'db-change');
    expect((await api(url, '/db-change', { body: { payload: { own: 'ray' }, sender: SENDER } })).status).toBe(200);
    await got;
    expect((await api(url, '/healthz', { key: null })).status).toBe(200);
    expect((await api(url, '/v1/publish', { body: { event: 'e', users: ['ray'] } })).status).toBe(200);
  });

  it('refuses a base path that collides with another surface, naming it', () => {
    expect(() => loadConfig({ GATEWAY_BASE_PATH: '/v1' })).toThrow(ConfigError);
    expect(() => loadConfig({ GATEWAY_BASE_PATH: '/internal/events' })).toThrow(/seed 003's internal routes/);
    expect(() => loadConfig({ GATEWAY_BASE_PATH: 'events' })).toThrow(/GATEWAY_BASE_PATH/);
    expect(() => loadConfig({ GATEWAY_BASE_PATH: '/' })).toThrow(/TRANSACTIONS_API=false/);
    // With the event gateway switched off the base path is not mounted, so it collides with nothing.
    expect(loadConfig({ GATEWAY_BASE_PATH: '/v1', EVENT_GATEWAY_API: 'false' }).eventGatewayApi).toBe(false);
    expect(loadConfig({ GATEWAY_BASE_PATH: '/', EVENT_GATEWAY_API: 'false' }).gatewayBasePath).toBe('/');
  });

  it('keeps role rooms out of reach of clients', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' });
    const socket = await connectAs(url, 'sam', 's1');
    expect(await socket.emitWithAck('room/join-room', 'role:admin')).toMatchObject({ error: { code: 'ROOM_FORBIDDEN' } });
  });
});
