import type { IncomingMessage, ServerResponse } from 'node:http';
import { targetOf, type OriginPolicy } from '../auth/origin-policy.js';
import { GatewayError } from '../protocol/errors.js';

/** An Engine.IO middleware, as `io.engine.use` takes it. */
type EngineMiddleware = (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * Refuses long-polling requests from an Origin the policy does not allow, before Engine.IO opens a session:
 * 403 with the catalog body `{ error: { code: 'ORIGIN_FORBIDDEN', message } }` and, on this refusal only,
 * `Access-Control-Allow-Origin` echoing the Origin — without it a browser page sees nothing but
 * "xhr poll error"; with it socket.io-client's `connect_error` carries the status (`err.description`) and
 * the body (`err.context.responseText`). WebSocket upgrades pass on to the handshake middleware, whose
 * refusal reaches the client as `connect_error.data`.
 */
export function refuseForeignPolling(originPolicy: OriginPolicy): EngineMiddleware {
  return (request, response, next) => {
    // Browsers cannot set Upgrade on an XHR or fetch: a request without it is long-polling.
    const origin = request.headers.origin;
    if (request.headers.upgrade !== undefined || origin === undefined || originPolicy.allows(origin, targetOf(request))) {
      next();
      return;
    }
    const refusal = new GatewayError('ORIGIN_FORBIDDEN');
    response.writeHead(refusal.status, {
      'content-type': 'application/json',
      'access-control-allow-origin': origin,
      vary: 'Origin',
    });
    response.end(JSON.stringify({ error: refusal.toBody() }));
  };
}
