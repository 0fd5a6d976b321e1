import type { Logger } from 'pino';
import type { ExtendedError } from 'socket.io';
import type { AuthStrategy } from '../auth/auth-strategy.js';
import { extractHandshakeToken } from '../auth/extract-token.js';
import { GatewayError, isGatewayError } from '../protocol/errors.js';
import type { OriginPolicy } from '../auth/origin-policy.js';
import type { SessionControl } from './session-control.js';
import type { UserConnections } from './user-connections.js';
import type { GatewaySocket } from '../protocol/socket-types.js';

export interface HandshakeDeps {
  readonly strategy: AuthStrategy;
  readonly originPolicy: OriginPolicy;
  /** Enforces SESSION_POLICY at the handshake; absent for namespaces whose sockets claim no session. */
  readonly sessionControl?: Pick<SessionControl, 'admit'>;
  /** Enforces MAX_CONNECTIONS_PER_USER at the handshake; absent for namespaces other than `/`. */
  readonly userConnections?: Pick<UserConnections, 'admit'>;
  readonly allowQueryToken: boolean;
  readonly isDraining: () => boolean;
  readonly logger: Logger;
}

/**
 * The Socket.IO middleware every connection passes before any handler sees it: node not draining, Origin
 * allowed (or the request's own), token present and valid, the user under MAX_CONNECTIONS_PER_USER, session
 * admitted by the policy. It fills
 * `socket.data`; a refusal reaches the client as {@link refuseHandshake} says (final: `connect_error`;
 * transient: a closed transport).
 */
export function createHandshakeMiddleware(deps: HandshakeDeps) {
  return async (socket: GatewaySocket, next: (err?: ExtendedError) => void): Promise<void> => {
    try {
      if (deps.isDraining()) throw new GatewayError('SHUTTING_DOWN');
      const { headers, auth, query } = socket.handshake;
      if (!deps.originPolicy.allows(headers.origin, { headers, secure: socket.handshake.secure })) throw new GatewayError('ORIGIN_FORBIDDEN');
      const token = tokenOrEmpty(() => extractHandshakeToken(
        { auth: isRecord(auth) ? auth : undefined, authorizationHeader: headers.authorization, query },
        deps.allowQueryToken,
      ), deps.strategy.acceptsMissingToken === true);
      const identity = await deps.strategy.authenticate({ token });
      // Before the session policy (which may claim the session under `latest`). Transient: the cap frees up
      // as the user's other connections close (a reloaded tab's old socket, say), and the retries get in then.
      if (deps.userConnections?.admit(socket, identity.userId) === false) throw new GatewayError('RATE_LIMITED', 'This user has too many connections open; retry shortly');
      await deps.sessionControl?.admit(identity, socket.id);
      // Not `{ ...identity, connectedAt }`: V8 gives every object made by a spread followed by a property a
      // hidden class of its own (about 200 bytes per connection); Object.assign shares one.
      socket.data = Object.assign({}, identity, { connectedAt: Date.now() });
      next();
    } catch (error) {
      if (!isGatewayError(error)) deps.logger.error({ err: error }, 'handshake failed unexpectedly');
      refuseHandshake(socket, next, isGatewayError(error) ? error : new GatewayError('AUTH_UNAVAILABLE'), deps.logger);
    }
  };
}

/** The WebSocket close code of a transient refusal: 1013, "Try Again Later" (RFC 6455's registry). */
export const RETRY_CLOSE_CODE = 1013;

/**
 * Refuses a handshake so that a stock socket.io-client v4 does the right thing. A final refusal (no retry
 * hint in the catalog) is `next(err)`: the client gets `connect_error` with `err.data.code` and stops. A
 * transient one (`AUTH_UNAVAILABLE`, `ENGINE_UNAVAILABLE`, `SHUTTING_DOWN`, `RATE_LIMITED`) closes the whole connection
 * instead — the client never retries after a `connect_error`, but it does reconnect, with its backoff,
 * after a closed transport. It is logged once; on WebSocket the close carries {@link RETRY_CLOSE_CODE}
 * and the code as its reason, which the client sees in its `disconnect` event's description. Either way the
 * middleware answers `next`, so Socket.IO lets go of the refused socket.
 */
export function refuseHandshake(socket: GatewaySocket, next: (err?: ExtendedError) => void, refusal: GatewayError, logger: Logger): void {
  if (refusal.retryAfterS === undefined) {
    logger.debug({ code: refusal.code, socketId: socket.id }, 'handshake refused');
    next(toConnectError(refusal));
    return;
  }
  logger.warn({ code: refusal.code, socketId: socket.id, nsp: socket.nsp.name }, 'handshake refused for now; closing the connection so the client retries');
  // Engine.IO keeps the WebSocket private; its `close(code, reason)` is the one of the `ws` package.
  const transport = socket.conn.transport as unknown as { name: string; socket?: { close(code: number, reason: string): void } };
  if (transport.name === 'websocket' && transport.socket !== undefined) transport.socket.close(RETRY_CLOSE_CODE, refusal.code);
  // Ends the Engine.IO session now (over WebSocket without another close frame: the one above is on its way).
  socket.conn.close();
  // Socket.IO holds the socket of a handshake until the middleware answers: finding the connection closed, it
  // drops the socket (and the rooms the handshake put it in) and sends nothing. Without this answer every
  // transient refusal would leave a socket behind in the namespace.
  next(toConnectError(refusal));
}

/** The error Socket.IO sends as `connect_error`: the client reads `err.message` and `err.data.code`. */
export function toConnectError(error: GatewayError): ExtendedError {
  const connectError: ExtendedError = new Error(error.message);
  connectError.data = error.toBody();
  return connectError;
}

/** The presented token; `''` when there is none and the strategy takes tokenless clients (`none`, soft-fail). */
function tokenOrEmpty(extract: () => string, acceptsMissing: boolean): string {
  try {
    return extract();
  } catch (error) {
    if (acceptsMissing && isGatewayError(error) && error.code === 'TOKEN_MISSING') return '';
    throw error;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
