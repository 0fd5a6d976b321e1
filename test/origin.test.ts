import { describe, expect, it } from 'vitest';
import { api, connectClient, expectConnectError, openClient, signToken, startGateway } from './support/gateway.js';

const ALLOWED = 'https://app.example.com';
const FOREIGN = 'https://evil.example.net';

describe('CORS_ORIGIN on the socket handshake', () => {
  for (const transport of ['websocket', 'polling'] as const) {
    it(`refuses a foreign Origin and admits a listed one over ${transport}`, async () => {
      const { url } = await startGateway({ CORS_ORIGIN: `${ALLOWED}, https://admin.example.com` });
      const token = await signToken({ user_id: 'origin-user' });
      // Over polling the 403 is a transport error: the code is readable, but a stock client retries.
      expect(await foreignRefusal(url, token, transport)).toEqual({ code: 'ORIGIN_FORBIDDEN', final: transport === 'websocket' });
      const listed = await connectClient(url, token, { transports: [transport], extraHeaders: { origin: ALLOWED } });
      // Non-browser clients send no Origin at all and are admitted.
      const originless = await connectClient(url, token, { transports: [transport] });
      expect([listed.connected, originless.connected]).toEqual([true, true]);
      expect(await connectionsOf(url, 'origin-user')).toEqual([listed.id, originless.id].sort());
    });

    it(`admits the gateway's own origin (python-socketio's Origin) over ${transport}, scheme-aware`, async () => {
      const { url } = await startGateway({ CORS_ORIGIN: ALLOWED });
      const token = await signToken({ user_id: 'same-origin-user' });
      const own = new URL(url).origin; // http://127.0.0.1:<port>, what python-socketio sends
      const sameOrigin = await connectClient(url, token, { transports: [transport], extraHeaders: { origin: own } });
      expect(await connectionsOf(url, 'same-origin-user')).toEqual([sameOrigin.id]);
      // Another scheme or another name for the host is another origin.
      for (const other of [own.replace('http:', 'https:'), own.replace('127.0.0.1', 'localhost')]) {
        const refusal = await expectConnectError(url, { auth: { token }, transports: ['websocket'], extraHeaders: { origin: other } });
        expect(refusal.data?.code).toBe('ORIGIN_FORBIDDEN');
      }
    });
  }

  it('takes the scheme from X-Forwarded-Proto only with TRUST_PROXY', async () => {
    const token = await signToken({ user_id: 'proxied-user' });
    const headersOf = (url: string) => ({ origin: new URL(url).origin.replace('http:', 'https:'), 'x-forwarded-proto': 'https' });
    const direct = await startGateway({ CORS_ORIGIN: ALLOWED });
    const refusal = await expectConnectError(direct.url, { auth: { token }, extraHeaders: headersOf(direct.url) });
    expect(refusal.data?.code).toBe('ORIGIN_FORBIDDEN');
    const proxied = await startGateway({ CORS_ORIGIN: ALLOWED, TRUST_PROXY: 'true' });
    const socket = await connectClient(proxied.url, token, { extraHeaders: headersOf(proxied.url) });
    expect(await connectionsOf(proxied.url, 'proxied-user')).toEqual([socket.id]);
  });

  it('admits any Origin when CORS_ORIGIN is *', async () => {
    const { url } = await startGateway({ CORS_ORIGIN: '*' });
    const socket = await connectClient(url, await signToken({ user_id: 'anywhere-user' }), { extraHeaders: { origin: FOREIGN } });
    expect(socket.connected).toBe(true);
    expect(await connectionsOf(url, 'anywhere-user')).toEqual([socket.id]);
  });
});

/**
 * How a stock client (reconnection on) is refused from FOREIGN: the catalog code it can read, and whether
 * the refusal is final (`connect_error.data`, no retry) or a transport error it retries. Over websocket the
 * code is `connect_error.data.code`; over polling the handshake's 403 is a transport error whose
 * `context.responseText` is the catalog body — read inside the handler: the XHR is aborted right after.
 */
async function foreignRefusal(url: string, token: string, transport: 'websocket' | 'polling'): Promise<{ code: string | undefined; final: boolean }> {
  const socket = openClient(url, { auth: { token }, transports: [transport], extraHeaders: { origin: FOREIGN }, reconnection: true, reconnectionDelay: 50 });
  return new Promise((resolve) => {
    socket.once('connect_error', (error: ConnectError) => {
      if (error.data !== undefined) {
        resolve({ code: error.data.code, final: !socket.active });
        return;
      }
      const body = JSON.parse(error.context?.responseText ?? '{}') as { error?: { code: string } };
      resolve({ code: error.description === 403 ? body.error?.code : `status ${error.description}`, final: !socket.active });
    });
  });
}

/** socket.io-client's connect_error: `data` from a middleware refusal, `description`/`context` from a transport error. */
type ConnectError = Error & { data?: { code: string }; description?: number; context?: { responseText?: string } };

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

describe('CORS_ORIGIN: same-origin HTTP requests and readable polling refusals', () => {
  it("answers an HTTP request whose Origin is the gateway's own", async () => {
    const { url } = await startGateway({ CORS_ORIGIN: ALLOWED });
    const own = new URL(url).origin;
    const sameOrigin = await api(url, '/v1/stats', { headers: { origin: own } });
    expect(sameOrigin.status).toBe(200);
    expect(sameOrigin.headers.get('access-control-allow-origin')).toBe(own);
    const otherScheme = await api(url, '/v1/stats', { headers: { origin: own.replace('http:', 'https:') } });
    expect(otherScheme).toMatchObject({ status: 403, body: { error: { code: 'ORIGIN_FORBIDDEN' } } });
  });

  it('refuses a foreign polling handshake with 403, the catalog body and its Origin echoed on the refusal only', async () => {
    const { url } = await startGateway({ CORS_ORIGIN: ALLOWED });
    const handshake = `${url}/socket.io/?EIO=4&transport=polling`;
    const refused = await fetch(handshake, { headers: { origin: FOREIGN } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBe(FOREIGN);
    expect(refused.headers.get('content-type')).toBe('application/json');
    expect(await refused.json()).toEqual({ error: { code: 'ORIGIN_FORBIDDEN', message: expect.any(String) } });
    // Polling requests of an existing session from a foreign page are refused the same way.
    const listed = await fetch(handshake, { headers: { origin: ALLOWED } });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const sid = (JSON.parse((await listed.text()).slice(1)) as { sid: string }).sid;
    const foreignPoll = await fetch(`${handshake}&sid=${sid}`, { headers: { origin: FOREIGN } });
    expect([foreignPoll.status, foreignPoll.headers.get('access-control-allow-origin')]).toEqual([403, FOREIGN]);
    // Nothing else tells a foreign page it may read: its preflight gets no allow-origin.
    const preflight = await fetch(handshake, { method: 'OPTIONS', headers: { origin: FOREIGN, 'access-control-request-method': 'GET' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});
