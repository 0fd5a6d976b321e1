import type { Logger } from 'pino';
import type { SessionPolicy } from '../config/config.js';
import type { ActiveSessionStore } from '../stores/active-sessions.js';
import { GatewayError } from '../protocol/errors.js';
import type { Identity } from '../auth/auth-strategy.js';
import { type GatewayServer, type GatewaySocket } from '../protocol/socket-types.js';
import { sessionRoom, userRoom } from '../protocol/own-rooms.js';
import { namespaceTable } from './namespace-table.js';
import type { LOGOUT_REASONS } from '../protocol/socket-answer-schemas.js';

/** The inter-node event asking every node to enforce `latest` for one user. */
const ENFORCE_LATEST_EVENT = 'switchboard:enforce-latest';

/** Why a socket was logged out; sent as `auth:logout` `{ reason }`. */
export type LogoutReason = (typeof LOGOUT_REASONS)[number];

/**
 * Enforces SESSION_POLICY and carries out session-wide actions (force-logout, disconnect) on every node:
 * - `multi`: no enforcement;
 * - `api`: the active session is the one set by force-logout; other sessions of that user are refused;
 * - `latest`: each new login becomes the active session and the user's older sessions are logged out.
 * A socket without a session id counts as a session of its own (keyed by its socket id) under `latest`.
 */
export class SessionControl {
  /**
   * @param clustered - the engine spans several nodes: `latest` enforcement is then also asked of the
   *   other nodes (Socket.IO `serverSideEmit`), each checking its own sockets against the active session.
   */
  constructor(
    private readonly io: GatewayServer,
    private readonly sessions: ActiveSessionStore,
    private readonly policy: SessionPolicy,
    private readonly clustered: boolean,
    private readonly logger: Logger,
  ) {
    if (clustered && policy === 'latest') {
      io.on(ENFORCE_LATEST_EVENT, (userId: unknown) => {
        if (typeof userId === 'string') this.enforceLatestLocally(userId).catch((error: unknown) => this.logger.warn({ err: error, userId }, 'session enforcement failed'));
      });
    }
  }

  /** Handshake check: refuses a session the policy does not admit (`SESSION_REVOKED`). */
  async admit(identity: Identity, socketId: string): Promise<void> {
    if (this.policy === 'api') {
      const active = await this.sessions.activeSession(identity.userId);
      if (active !== undefined && active !== identity.sessionId) throw new GatewayError('SESSION_REVOKED');
    } else if (this.policy === 'latest') {
      await this.sessions.claimSession(identity.userId, sessionKey(identity.sessionId, socketId));
    }
  }

  /**
   * After the socket joined its rooms, checks the active session again: a force-logout (`api`) or a newer
   * login (`latest`) that happened between the handshake check and the join would otherwise miss this
   * socket. Under `latest` it then logs out the user's other sessions.
   */
  async enforceAfterJoin(socket: GatewaySocket): Promise<void> {
    if (this.policy === 'multi') return;
    const { userId, sessionId } = socket.data;
    const active = await this.sessions.activeSession(userId);
    if (this.policy === 'api') {
      if (active !== undefined && active !== sessionId) this.logoutSelf(socket, 'force-logout');
      return;
    }
    if (active !== sessionKey(sessionId, socket.id)) {
      this.logoutSelf(socket, 'session-replaced');
      return;
    }
    if (this.clustered) this.io.serverSideEmit(ENFORCE_LATEST_EVENT, userId);
    await this.enforceLatestLocally(userId);
  }

  /**
   * Logs out this node's sockets of `userId` whose session is not the active one *now*. Each node reads
   * the active session when it acts (not when the request was sent), so logins racing on several nodes
   * converge on the last claim instead of logging each other out.
   */
  private async enforceLatestLocally(userId: string): Promise<void> {
    const active = await this.sessions.activeSession(userId);
    const namespace = this.io.of('/');
    for (const socketId of namespace.adapter.rooms.get(userRoom(userId)) ?? []) {
      const socket = namespace.sockets.get(socketId);
      if (socket !== undefined && sessionKey(socket.data.sessionId, socket.id) !== active) this.logoutSelf(socket, 'session-replaced');
    }
  }

  /** Force-logout (the internal routes'): `sessionId` becomes active, every other session's sockets get `auth:logout` and are disconnected. */
  async forceLogout(userId: string, sessionId: string): Promise<number> {
    await this.sessions.setActiveSession(userId, sessionId);
    return this.logoutOthers(userId, sessionRoom(sessionId), 'force-logout');
  }

  /** Disconnects a user's sockets (all, or one session's) without changing the active session. */
  async disconnectUser(userId: string, sessionId?: string): Promise<number> {
    const sockets = await this.io.in(userRoom(userId)).fetchSockets();
    const targets = sessionId === undefined ? sockets : sockets.filter((s) => s.data.sessionId === sessionId);
    for (const socket of targets) socket.disconnect(true);
    return targets.length;
  }

  /**
   * The auth service revoked these sessions: their sockets, on every node, get `auth:logout { reason }`
   * and are disconnected.
   */
  logoutSessions(sessionIds: readonly string[], reason: LogoutReason): void {
    if (sessionIds.length === 0) return;
    logout(this.io.in(sessionIds.map(sessionRoom)), reason);
  }

  /**
   * The same for this node's sockets only, in `rooms` (`user:…` / `session:…`), in `/` (unless
   * `mainNamespace` is false) and in the transaction events' client namespaces: for account events, which every node
   * reads for itself, and for client-namespace sockets, which only their node can reach.
   */
  logoutLocally(rooms: readonly string[], reason: LogoutReason, { mainNamespace = true } = {}): number {
    let count = 0;
    for (const namespace of namespaceTable(this.io).values()) {
      if (namespace.name === '/' && !mainNamespace) continue;
      let here = 0;
      for (const room of rooms) here += namespace.adapter.rooms.get(room)?.size ?? 0;
      if (here === 0) continue;
      count += here;
      logout(namespace.local.in([...rooms]), reason);
    }
    return count;
  }

  private logoutSelf(socket: GatewaySocket, reason: LogoutReason): void {
    logout(this.io.in(socket.id), reason);
  }

  private async logoutOthers(userId: string, keepRoom: string, reason: LogoutReason): Promise<number> {
    const others = this.io.in(userRoom(userId)).except(keepRoom);
    const count = (await others.fetchSockets()).length;
    if (count === 0) return 0;
    logout(others, reason);
    this.logger.info({ userId, reason, sockets: count }, 'logged out other sessions');
    return count;
  }
}

/**
 * `auth:logout { reason }`, then disconnect, for the sockets `targets` names. Both go through the adapter
 * (as every emit does while connection-state recovery is on), so with Redis the disconnect cannot overtake
 * the event: they share one ordered stream.
 */
function logout(targets: ReturnType<GatewayServer['in']>, reason: LogoutReason): void {
  targets.emit('auth:logout', { reason });
  targets.disconnectSockets(true);
}

function sessionKey(sessionId: string | undefined, socketId: string): string {
  return sessionId ?? `socket:${socketId}`;
}
