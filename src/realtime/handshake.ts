import type { AuthStrategy } from '../auth/auth-strategy.js';
import { extractHandshakeToken } from '../auth/extract-token.js';
import { GatewayError, isGatewayError } from '../protocol/errors.js';
import type { OriginPolicy } from '../auth/origin-policy.js';
import type { SessionControl } from './session-control.js';
import type { UserConnections } from './user-connections.js';
import type { GatewaySocket } from '../protocol/socket-types.js';
import type { HandshakeNext, HandshakeRefusals } from './handshake-refusals.js';
import type { Metrics } from '../runtime/metrics.js';

export interface HandshakeDeps {
  readonly strategy: AuthStrategy;
  readonly originPolicy: OriginPolicy;
  /** Enforces SESSION_POLICY at the handshake; absent for namespaces whose sockets claim no session. */
  readonly sessionControl?: Pick<SessionControl, 'admit'>;
  /** Enforces MAX_CONNECTIONS_PER_USER at the handshake; absent for namespaces other than `/`. */
  readonly userConnections?: Pick<UserConnections, 'admit'>;
  readonly allowQueryToken: boolean;
  readonly isDraining: () => boolean;
  /** Takes each handshake's turn under the failed-handshake limits, and refuses, counts and logs. */
  readonly refusals: HandshakeRefusals;
  /** Counts MAX_CONNECTIONS_PER_USER's refusals among the rate limits; `undefined` = metrics off. */
  readonly metrics: Pick<Metrics, 'rateLimit'> | undefined;
}

/**
 * The Socket.IO middleware every connection passes before any handler sees it: connection and address
 * under their failed-handshake limits (checked first, before anything costly), node not draining, Origin
 * allowed (or the request's own), token present and valid, the user under MAX_CONNECTIONS_PER_USER, session
 * admitted by the policy. It fills `socket.data`; a refusal reaches the client as
 * {@link HandshakeRefusals} answers it (final: `connect_error`; transient: a closed transport).
 */
export function createHandshakeMiddleware(deps: HandshakeDeps) {
  const { refusals } = deps;
  const perUserCap = deps.userConnections === undefined ? undefined : deps.metrics?.rateLimit('connections_per_user');
  return async (socket: GatewaySocket, next: HandshakeNext): Promise<void> => {
    if (!(await refusals.begin(socket, next))) return;
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
      if (deps.userConnections?.admit(socket, identity.userId) === false) {
        perUserCap?.inc();
        throw new GatewayError('RATE_LIMITED', 'This user has too many connections open; retry shortly');
      }
      await deps.sessionControl?.admit(identity, socket.id);
      // Not `{ ...identity, connectedAt }`: V8 gives every object made by a spread followed by a property a
      // hidden class of its own (about 200 bytes per connection); Object.assign shares one.
      socket.data = Object.assign({}, identity, { connectedAt: Date.now() });
      refusals.accept(socket);
      next();
    } catch (error) {
      if (!isGatewayError(error)) refusals.failedUnexpectedly(socket, error);
      refusals.refuse(socket, next, isGatewayError(error) ? error : new GatewayError('AUTH_UNAVAILABLE'));
    }
  };
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
