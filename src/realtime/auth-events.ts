import type { Logger } from 'pino';
import type { AuthStrategy } from '../auth/auth-strategy.js';
import { stripBearer } from '../auth/extract-token.js';
import { GatewayError } from '../protocol/errors.js';
import { answerEventsOf } from '../protocol/event-catalog.js';
import { readRefreshToken } from '../protocol/socket-schemas.js';
import type { GatewaySocket } from '../protocol/socket-types.js';
import { acknowledgedListener, type SocketListener } from './acknowledged-listener.js';
import type { TokenExpiryWatch } from './token-expiry.js';

export interface AuthEventDeps {
  /** The active auth strategy, which checked the token at the handshake. */
  readonly strategy: AuthStrategy;
  readonly expiry: TokenExpiryWatch;
  readonly logger: Logger;
}

/**
 * `auth:refresh` with a new token (a string, or `{ token }`) for the same user and session: re-checks it
 * with the active strategy and moves the socket's expiry. Answers `{ ok: true, expiresAt }`; without an
 * ack, `auth:refreshed` or `auth:error`.
 */
export function createAuthEventListeners(deps: AuthEventDeps): Record<string, SocketListener> {
  return {
    'auth:refresh': acknowledgedListener(deps.logger, (socket, payload) => refreshToken(socket, payload, deps), answerEventsOf('auth:refresh')),
  };
}

async function refreshToken(socket: GatewaySocket, payload: unknown, deps: AuthEventDeps): Promise<{ ok: true; expiresAt: number | null }> {
  const identity = await deps.strategy.authenticate({ token: stripBearer(readRefreshToken(payload)) });
  const { userId, sessionId } = socket.data;
  if (identity.userId !== userId || identity.sessionId !== sessionId) {
    throw new GatewayError('IDENTITY_MISMATCH');
  }
  deps.expiry.update(socket, identity.expiresAt);
  socket.data.rooms = identity.rooms;
  socket.data.permissions = identity.permissions;
  return { ok: true, expiresAt: identity.expiresAt ?? null };
}
