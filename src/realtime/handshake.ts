import type { Logger } from 'pino';
import type { ExtendedError } from 'socket.io';
import type { AuthStrategy } from '../auth/auth-strategy.js';
import { extractHandshakeToken } from '../auth/extract-token.js';
import { GatewayError, isGatewayError } from '../protocol/errors.js';
import type { OriginPolicy } from '../auth/origin-policy.js';
import type { SessionControl } from './session-control.js';
import type { GatewaySocket } from '../protocol/socket-types.js';

export interface HandshakeDeps {
  readonly strategy: AuthStrategy;
  readonly originPolicy: OriginPolicy;
  /** Enforces SESSION_POLICY at the handshake; absent for namespaces whose sockets claim no session. */
  readonly sessionControl?: Pick<SessionControl, 'admit'>;
  readonly allowQueryToken: boolean;
  readonly isDraining: () => boolean;
  readonly logger: Logger;
}

/**
 * The Socket.IO middleware every connection passes before any handler sees it: node not draining, Origin
 * allowed (or the request's own), token present and valid, session admitted by the policy. It fills `socket.data`; a refusal
 * reaches the client as `connect_error` with `err.data = { code, message }`.
 */
export function createHandshakeMiddleware(deps: HandshakeDeps) {
  return async (socket: GatewaySocket, next: (err?: ExtendedError) => void): Promise<void> => {
    try {
      if (deps.isDraining()) {
        // A middleware refusal would stop a stock client for good; a closed transport makes it retry elsewhere.
        socket.conn.close();
        return;
      }
      const { headers, auth, query } = socket.handshake;
      if (!deps.originPolicy.allows(headers.origin, { headers, secure: socket.handshake.secure })) throw new GatewayError('ORIGIN_FORBIDDEN');
      const token = tokenOrEmpty(() => extractHandshakeToken(
        { auth: isRecord(auth) ? auth : undefined, authorizationHeader: headers.authorization, query },
        deps.allowQueryToken,
      ), deps.strategy.acceptsMissingToken === true);
      const identity = await deps.strategy.authenticate({ token });
      await deps.sessionControl?.admit(identity, socket.id);
      socket.data = { ...identity, connectedAt: Date.now() };
      next();
    } catch (error) {
      const refusal = isGatewayError(error) ? error : new GatewayError('AUTH_UNAVAILABLE');
      if (!isGatewayError(error)) deps.logger.error({ err: error }, 'handshake failed unexpectedly');
      else deps.logger.debug({ code: refusal.code, socketId: socket.id }, 'handshake refused');
      next(toConnectError(refusal));
    }
  };
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
