import { describe, expect, it } from 'vitest';
import { namespaceTable } from '../src/realtime/namespace-table.js';
import { api, connectClient, expectConnectError, nextEvent, openClient, signToken, startGateway } from './support/gateway.js';
import { sleep, waitFor } from './support/wait.js';

const ALLOWED = 'https://app.example.com';
const FOREIGN = 'https://evil.example.net';

describe('CORS_ORIGIN on the socket handshake', () => {
  for (const transport of ['websocket', 'polling'] as const) {
    it(`refuses a foreign Origin for good and admits a listed one over ${transport}`, async () => {
      const { url } = await startGateway({ CORS_ORIGIN: `${ALLOWED}, https://admin.example.com` });
      const token = await signToken({ user_id: 'origin-user' });
      // A final refusal on both transports: connect_error data, and a stock client with reconnection on stops.
      expect(await foreignRefusal(url, token, transport)).toEqual({ code: 'ORIGIN_FORBIDDEN', final: true });
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
        const refusal = await expectConnectError(url, { auth: { token }, transports: [transport], extraHeaders: { origin: other } });
        expect(refusal.data?.code).toBe('ORIGIN_FORBIDDEN');
      }
    });

    it(`lets a foreign Origin into no namespace over ${transport}: /, client namespaces, made-up names`, async () => {
      const { url, gateway } = await startGateway({ CORS_ORIGIN: ALLOWED });
      await api(url, '/client', { body: { clientId: 'shop', payload: { id: 'shop', name: 'Shop', subscriptions: ['completed'] } } });
      // An admin token may enter any client namespace: only the Origin keeps it out.
      const token = await signToken({ user_id: 'foreign-admin', role: 'admin' });
      const refused = async (namespace: string) => {
        const refusal = await expectConnectError(`${url}${namespace}`, { auth: { token }, transports: [transport], extraHeaders: { origin: FOREIGN } });
        return refusal.data?.code ?? refusal.message;
      };
      expect(await refused('/')).toBe('ORIGIN_FORBIDDEN');
      expect(await refused('/shop')).toBe('ORIGIN_FORBIDDEN');
      expect(await refused('/shop/completed')).toBe('ORIGIN_FORBIDDEN');
      // Names no namespace serves are refused whoever asks, before any Origin check.
      expect(await refused('/ghost')).toBe('UNKNOWN_CLIENT');
      expect(await refused('/made/up/name')).toBe('Invalid namespace');
      const entered = [...namespaceTable(gateway.io).values()].reduce((sum, namespace) => sum + namespace.sockets.size, 0);
      expect(entered).toBe(0);
      // The same admin from the listed origin gets in.
      await connectClient(`${url}/shop`, token, { transports: [transport], extraHeaders: { origin: ALLOWED } });
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

  it('refuses an Origin outside ALLOW_REQUEST_DOMAINS for good over polling, with no CORS headers for it', async () => {
    const { url } = await startGateway({ CORS_ORIGIN: '*', ALLOW_REQUEST_DOMAINS: 'foo.com' });
    const token = await signToken({ user_id: 'domain-user' });
    const refusal = await expectConnectError(url, { auth: { token }, transports: ['polling'], extraHeaders: { origin: 'https://evilfoo.com' } });
    expect(refusal.data?.code).toBe('ORIGIN_FORBIDDEN');
    const endpoint = `${url}/socket.io/?EIO=4&transport=polling`;
    const preflight = await fetch(endpoint, { method: 'OPTIONS', headers: { origin: 'https://evilfoo.com', 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const listed = await fetch(endpoint, { headers: { origin: 'https://www.foo.com' } });
    expect([listed.status, listed.headers.get('access-control-allow-origin')]).toEqual([200, 'https://www.foo.com']);
    await listed.text();
    await connectClient(url, token, { transports: ['polling'], extraHeaders: { origin: 'https://www.foo.com' } });
  });

  it('admits any Origin when CORS_ORIGIN is *', async () => {
    const { url } = await startGateway({ CORS_ORIGIN: '*' });
    const socket = await connectClient(url, await signToken({ user_id: 'anywhere-user' }), { extraHeaders: { origin: FOREIGN } });
    expect(socket.connected).toBe(true);
    expect(await connectionsOf(url, 'anywhere-user')).toEqual([socket.id]);
  });
});

/**
 * How a stock client (reconnection on) is refused from FOREIGN: the catalog code of its `connect_error`
 * (`err.data.code`; the message for a transport error) and whether the refusal is final (the client stopped).
 */
async function foreignRefusal(url: string, token: string, transport: 'websocket' | 'polling'): Promise<{ code: string | undefined; final: boolean }> {
  const socket = openClient(url, { auth: { token }, transports: [transport], extraHeaders: { origin: FOREIGN }, reconnection: true, reconnectionDelay: 50 });
  const [error] = await nextEvent<[Error & { data?: { code: string } }]>(socket, 'connect_error');
  return { code: error.data?.code ?? error.message, final: !socket.active };
}

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

  it('answers a request without Origin (a backend) with Vary: Origin and no CORS headers', async () => {
    const { url } = await startGateway({ CORS_ORIGIN: ALLOWED });
    const backend = await api(url, '/v1/stats');
    expect(backend.status).toBe(200);
    expect(backend.headers.get('vary')).toBe('Origin');
    expect([...backend.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
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

  it("lets a stock client's foreign polling handshake fail for good: one connect_error, no retry, no session left", async () => {
    const { url, gateway } = await startGateway({ CORS_ORIGIN: ALLOWED });
    // Default options: reconnection on, its default backoff.
    const socket = openClient(url, { auth: { token: await signToken() }, transports: ['polling'], extraHeaders: { Origin: 'http://evil.example' }, reconnection: true });
    const seen: string[] = [];
    socket.on('connect_error', (error: Error & { data?: { code: string } }) => seen.push(`connect_error ${error.data?.code ?? error.message}`));
    socket.io.on('reconnect_attempt', () => seen.push('reconnect_attempt'));
    await sleep(3000);
    expect(seen).toEqual(['connect_error ORIGIN_FORBIDDEN']);
    expect(socket.active).toBe(false);
    // The client closed its Engine.IO session after the refusal.
    await waitFor(() => expect(gateway.io.engine.clientsCount).toBe(0));
  });

  it('serves a foreign polling session to the Origin that opened it only, refuses its CONNECT, and counts it as pending', async () => {
    const { url, gateway } = await startGateway({ CORS_ORIGIN: ALLOWED, CONNECT_TIMEOUT_MS: '500', MAX_PENDING_HANDSHAKES_PER_IP: '1' });
    const endpoint = `${url}/socket.io/?EIO=4&transport=polling`;
    // What a browser page does: a simple GET (handshake), a text/plain POST (CONNECT), a GET (its answer).
    const opened = await fetch(endpoint, { headers: { origin: FOREIGN } });
    expect([opened.status, opened.headers.get('access-control-allow-origin'), opened.headers.get('vary')]).toEqual([200, FOREIGN, 'Origin']);
    expect(opened.headers.get('access-control-allow-credentials')).toBeNull();
    const sid = (JSON.parse((await opened.text()).slice(1)) as { sid: string }).sid;
    const session = `${endpoint}&sid=${sid}`;
    // It counts as a pending handshake: the address's second one is refused.
    expect((await fetch(endpoint, { headers: { origin: FOREIGN } })).status).toBe(403);
    const token = await signToken();
    const connect = await fetch(session, { method: 'POST', headers: { origin: FOREIGN, 'content-type': 'text/plain;charset=UTF-8' }, body: `40${JSON.stringify({ token })}` });
    expect([connect.status, connect.headers.get('access-control-allow-origin'), await connect.text()]).toEqual([200, FOREIGN, 'ok']);
    const answer = await fetch(session, { headers: { origin: FOREIGN } });
    expect(answer.headers.get('access-control-allow-origin')).toBe(FOREIGN);
    const packet = await answer.text();
    expect(packet.startsWith('44')).toBe(true); // Engine.IO message, Socket.IO CONNECT_ERROR
    expect(JSON.parse(packet.slice(2))).toEqual({ message: expect.any(String), data: { code: 'ORIGIN_FORBIDDEN', message: expect.any(String) } });
    // Another foreign Origin cannot use that session; it reads the refusal only.
    const other = await fetch(session, { headers: { origin: 'https://other.example.org' } });
    expect([other.status, other.headers.get('access-control-allow-origin')]).toEqual([403, 'https://other.example.org']);
    expect(await other.json()).toEqual({ error: { code: 'ORIGIN_FORBIDDEN', message: expect.any(String) } });
    // Nothing else tells a foreign page it may read: its preflight gets no allow-origin.
    const preflight = await fetch(endpoint, { method: 'OPTIONS', headers: { origin: FOREIGN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    // A session that never enters a namespace is closed at the connect timeout (its next poll reads the
    // Engine.IO close packet), and leaves the pending count.
    const closing = await fetch(session, { headers: { origin: FOREIGN } });
    expect([closing.headers.get('access-control-allow-origin'), await closing.text()]).toEqual([FOREIGN, '1']);
    await waitFor(() => expect(gateway.io.engine.clientsCount).toBe(0));
    const again = await fetch(endpoint, { headers: { origin: FOREIGN } });
    expect(again.status).toBe(200);
    await again.text();
  });

  it("refuses a foreign Origin's polling requests of a session it did not open", async () => {
    const { url } = await startGateway({ CORS_ORIGIN: ALLOWED });
    const endpoint = `${url}/socket.io/?EIO=4&transport=polling`;
    const listed = await fetch(endpoint, { headers: { origin: ALLOWED } });
    expect([listed.status, listed.headers.get('access-control-allow-origin')]).toEqual([200, ALLOWED]);
    const sid = (JSON.parse((await listed.text()).slice(1)) as { sid: string }).sid;
    const foreignPoll = await fetch(`${endpoint}&sid=${sid}`, { headers: { origin: FOREIGN } });
    expect([foreignPoll.status, foreignPoll.headers.get('access-control-allow-origin')]).toEqual([403, FOREIGN]);
    expect(await foreignPoll.json()).toEqual({ error: { code: 'ORIGIN_FORBIDDEN', message: expect.any(String) } });
    // Without Origin (a native client) nothing changes: no allow-origin.
    const originless = await fetch(endpoint);
    expect([originless.status, originless.headers.get('access-control-allow-origin')]).toEqual([200, null]);
  });
});
