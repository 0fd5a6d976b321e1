import type { Logger } from 'pino';
import type { SessionStateCheck } from '../auth/session-state-check.js';
import type { LogoutReason, SessionControl } from '../realtime/session-control.js';
import { type GatewayServer } from '../protocol/socket-types.js';
import { sessionRoom, userRoom } from '../protocol/own-rooms.js';
import type { AccountEvent } from '../stores/account-store.js';
import type { Metrics } from '../runtime/metrics.js';

/** Inter-node event: these sessions were revoked; drop any cached state about them. */
const SESSIONS_REVOKED_EVENT = 'switchboard:sessions-revoked';

/**
 * What follows a revocation on the realtime side, on every node: the sessions' sockets get `auth:logout`
 * and are disconnected, and cached session states (TOKEN_STATE_CHECK, user tokens on `/v1`) are dropped.
 */
export class Revocations {
  constructor(
    private readonly io: GatewayServer,
    private readonly sessionControl: SessionControl,
    private readonly stateCheck: SessionStateCheck,
    private readonly clustered: boolean,
    private readonly logger: Logger,
    /** Counts the sessions this node's auth service revokes, by reason; `undefined` = metrics off. */
    private readonly metrics?: Pick<Metrics, 'authRevocations'>,
  ) {
    if (clustered) {
      io.on(SESSIONS_REVOKED_EVENT, (message: unknown) => {
        const { ids, reason } = (typeof message === 'object' && message !== null ? message : {}) as { ids?: unknown; reason?: unknown };
        if (!Array.isArray(ids) || typeof reason !== 'string') return;
        // `/` was reached through the adapter; client-namespace sockets are reached by their own node only.
        this.revokedHere(ids.filter((id): id is string => typeof id === 'string'), reason as LogoutReason, false);
      });
    }
  }

  /** Sessions revoked through this node's auth service (logout, reuse, password change). */
  sessionsRevoked(sessionIds: readonly string[], reason: LogoutReason): void {
    if (sessionIds.length === 0) return;
    if (this.metrics !== undefined) this.metrics.authRevocations.tally(reason).value += sessionIds.length;
    if (this.clustered) this.io.serverSideEmit(SESSIONS_REVOKED_EVENT, { ids: sessionIds, reason });
    this.sessionControl.logoutSessions(sessionIds, reason);
    this.revokedHere(sessionIds, reason, false);
  }

  /** An account event read from the store's feed (e.g. `users disable` from the CLI): acts on this node's sockets. */
  apply(event: AccountEvent): void {
    if (event.kind === 'user-disabled') {
      this.stateCheck.forget();
      const count = this.sessionControl.logoutLocally([userRoom(event.userId)], 'user-disabled');
      if (count > 0) this.logger.info({ userId: event.userId, sockets: count }, 'user disabled; sockets logged out');
    } else {
      this.revokedHere(event.sessionIds, 'password-changed', true);
    }
  }

  /** On this node: drops the sessions' cached states and logs out their sockets (in `/` too, or only in client namespaces). */
  private revokedHere(sessionIds: readonly string[], reason: LogoutReason, mainNamespace: boolean): void {
    this.stateCheck.forget(sessionIds);
    this.sessionControl.logoutLocally(sessionIds.map(sessionRoom), reason, { mainNamespace });
  }
}
