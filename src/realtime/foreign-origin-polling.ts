import type { IncomingMessage, ServerResponse } from 'node:http';
import { targetOf, type OriginPolicy } from '../auth/origin-policy.js';
import { GatewayError } from '../protocol/errors.js';
import type { GatewayServer } from '../protocol/socket-types.js';

/** An Engine.IO session as far as this file needs it. */
interface EngineSession {
  readonly id: string;
  readonly request: IncomingMessage;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Lets a browser page from an Origin the policy does not allow open a long-polling Engine.IO session and
 * read its answers, so that the handshake middleware's refusal reaches it as a final `connect_error` with
 * `err.data.code === 'ORIGIN_FORBIDDEN'` (as over WebSocket) and a stock socket.io-client stops. A refusal
 * before the session (the former design: HTTP 403) is a transport error to socket.io-client, which retries
 * it forever; only a Socket.IO CONNECT_ERROR packet stops it.
 *
 * Nothing is entered this way: every namespace's handshake middleware checks the Origin (`/` and the
 * transaction events' client namespaces), and a name no namespace matches is refused by Socket.IO. What
 * the page reads is what a foreign page can already read over WebSocket, which has no CORS: the Engine.IO
 * open packet and the refusal. Such a session counts under the pending-handshake caps like any other; the
 * stock client closes it after the refusal, and the connect timeout closes it otherwise. It is not closed
 * here: socket.io-client delivers a CONNECT_ERROR a tick after the Engine.IO packets of the same poll, so
 * a close sent with it would read as a dropped transport, and the client would reconnect.
 *
 * `Access-Control-Allow-Origin` (no credentials) is echoed on the polling requests of that session only,
 * and only to the Origin that opened it. A foreign polling request of any other session is refused 403
 * with the catalog body (readable, the Origin echoed on the refusal only). Preflights are left alone: a
 * foreign one gets no CORS headers from Socket.IO's `cors` and Engine.IO answers it 400 (a stock client
 * sends none: its requests are simple GETs and text/plain POSTs). WebSocket upgrades, requests without
 * Origin (native clients) and allowed or same-origin requests pass untouched.
 */
export function serveForeignOriginPolling(io: GatewayServer, originPolicy: OriginPolicy): void {
  const foreignSessions = new Map<string, string>(); // session id → the foreign Origin that opened it
  io.engine.on('connection', (session: EngineSession) => {
    const origin = foreignPollingOrigin(session.request, originPolicy);
    if (origin === undefined) return;
    foreignSessions.set(session.id, origin);
    session.once('close', () => foreignSessions.delete(session.id));
  });
  io.engine.use((request: IncomingMessage, response: ServerResponse, next: () => void) => {
    const origin = foreignPollingOrigin(request, originPolicy);
    if (origin === undefined) {
      next();
      return;
    }
    response.setHeader('access-control-allow-origin', origin);
    if (!/(^|,)\s*origin\s*(,|$)/i.test(String(response.getHeader('vary') ?? ''))) response.appendHeader('vary', 'Origin');
    const sessionId = new URL(request.url ?? '/', 'http://gateway').searchParams.get('sid');
    // A new session (its open packet) or a request of the session this Origin opened.
    if (sessionId === null || foreignSessions.get(sessionId) === origin) {
      next();
      return;
    }
    const refusal = new GatewayError('ORIGIN_FORBIDDEN');
    response.writeHead(refusal.status, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: refusal.toBody() }));
  });
}

/** The Origin of a long-polling request (not a preflight) the policy does not allow; `undefined` for any other request. */
function foreignPollingOrigin(request: IncomingMessage, originPolicy: OriginPolicy): string | undefined {
  const origin = request.headers.origin;
  // Browsers cannot set Upgrade on an XHR or fetch: a request without it is long-polling.
  if (origin === undefined || request.headers.upgrade !== undefined || request.method === 'OPTIONS') return undefined;
  return originPolicy.allows(origin, targetOf(request)) ? undefined : origin;
}
