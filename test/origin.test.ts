import { describe, expect, it } from 'vitest';
import { api, connectClient, expectConnectError, signToken, startGateway } from './support/gateway.js';

const ALLOWED = 'https://app.example.com';
const FOREIGN = 'https://evil.example.net';

describe('CORS_ORIGIN on the socket handshake', () => {
  for (const transport of ['websocket', 'polling'] as const) {
    it(`refuses a foreign Origin and admits a listed one over ${transport}`, async () => {
      const { url } = await startGateway({ CORS_ORIGIN: `${ALLOWED}, https://admin.example.com` });
      const token = await signToken({ user_id: 'origin-user' });
      const refusal = await expectConnectError(url, { auth: { token }, transports: [transport], extraHeaders: { origin: FOREIGN } });
      expect(refusal.data?.code).toBe('ORIGIN_FORBIDDEN');
      const listed = await connectClient(url, token, { transports: [transport], extraHeaders: { origin: ALLOWED } });
      // Non-browser clients send no Origin at all and are admitted.
      const originless = await connectClient(url, token, { transports: [transport] });
      expect([listed.connected, originless.connected]).toEqual([true, true]);
      expect(await connectionsOf(url, 'origin-user')).toEqual([listed.id, originless.id].sort());
    });
  }

  it('admits any Origin when CORS_ORIGIN is *', async () => {
    const { url } = await startGateway({ CORS_ORIGIN: '*' });
    const socket = await connectClient(url, await signToken({ user_id: 'anywhere-user' }), { extraHeaders: { origin: FOREIGN } });
    expect(socket.connected).toBe(true);
    expect(await connectionsOf(url, 'anywhere-user')).toEqual([socket.id]);
  });
});

/** The socket ids the gateway lists for `userId`, sorted. */
async function connectionsOf(url: string, userId: string): Promise<string[]> {
  const user = await api<{ connections: { socketId: string }[] }>(url, `/v1/users/${userId}`);
  return user.body.connections.map((connection) => connection.socketId).sort();
}

describe('CORS_ORIGIN on the HTTP API', () => {
  it('answers a listed origin with CORS headers and refuses a foreign one with 403', async () => {
    const { url } = await startGateway({ CORS_ORIGIN: ALLOWED });
    const allowed = await api(url, '/v1/stats', { headers: { origin: ALLOWED } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const foreign = await api(url, '/v1/stats', { headers: { origin: FOREIGN } });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatchObject({ error: { code: 'ORIGIN_FORBIDDEN' } });
    const preflight = await fetch(`${url}/v1/publish`, {
      method: 'OPTIONS',
      headers: { origin: FOREIGN, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
  });
});
