import { describe, expect, it } from 'vitest';
import { api, flush, nextEvent, openClient, recordEvents, signToken, startGateway, type ClientOptions } from './support/gateway.js';

/**
 * The options seed 002's `EventDataClientInstance.connect()` hands to `io(uri, …)`: the token under
 * `auth.Authorization` (as configured: raw or `Bearer `-prefixed) and `authMode` beside `auth`.
 */
function eventDataClientOptions(auth: string, authMode: 'Basic' | 'Bearer' | 'AwsSignature'): ClientOptions {
  const opt = { auth: { Authorization: auth }, authMode };
  return { ...opt };
}

describe("seed 002's EventDataClientInstance", () => {
  for (const transport of ['websocket', 'polling'] as const) {
    it(`connects with auth.Authorization, raw or Bearer-prefixed, over ${transport}`, async () => {
      const { url } = await startGateway();
      const raw = openClient(url, { ...eventDataClientOptions(await signToken({ user_id: 'idae-raw' }), 'Bearer'), transports: [transport] });
      const bearer = openClient(url, { ...eventDataClientOptions(`Bearer ${await signToken({ user_id: 'idae-bearer' })}`, 'Bearer'), transports: [transport] });
      await Promise.all([nextEvent(raw, 'connect'), nextEvent(bearer, 'connect')]);
      const users = await Promise.all(['idae-raw', 'idae-bearer'].map((id) => api<{ online: boolean }>(url, `/v1/users/${id}`)));
      expect(users.map((user) => user.body.online)).toEqual([true, true]);
    });
  }

  it("grantIn acks 'true' for a role the token has (and its publishes arrive), 'false' for one it lacks", async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: 'app.*' });
    const client = openClient(url, eventDataClientOptions(`Bearer ${await signToken({ user_id: 'idae-admin', roles: ['admin'] })}`, 'Bearer'));
    await nextEvent(client, 'connect');
    expect(await client.emitWithAck('grantIn', { ROLE: 'admin', host: 'app.example' })).toBe('true');
    expect(await client.emitWithAck('grantIn', { ROLE: 'ops' })).toBe('false');
    // A host room the policy refuses, a payload naming no room, and a malformed one: 'false' too.
    expect(await client.emitWithAck('grantIn', { host: 'elsewhere' })).toBe('false');
    expect(await client.emitWithAck('grantIn', {})).toBe('false');
    expect(await client.emitWithAck('grantIn', 'admin')).toBe('false');

    const seen = recordEvents(client);
    const toAdmins = nextEvent(client, 'collection:update');
    for (const role of ['admin', 'ops']) {
      const response = await api(url, '/events/collection:update', { body: { payload: { role }, rooms: [role], sender: { roles: ['system'] } } });
      expect(response.status).toBe(200);
    }
    expect((await toAdmins)[0]).toEqual({ role: 'admin' });
    const toHost = nextEvent(client, 'host:update');
    expect((await api(url, '/v1/publish', { body: { event: 'host:update', data: 1, rooms: ['app.example'] } })).status).toBe(200);
    await toHost;
    await flush(url, client);
    expect(seen.map((event) => event.event)).toEqual(['collection:update', 'host:update', 'test:marker']);
  });
});
