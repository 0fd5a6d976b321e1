import { writeBroadcastFramesDirectly } from './broadcast-frames.js';
import { coalesceWebSocketFrames } from './coalesced-frames.js';
import { capPollingPayloads } from './polling-payload-cap.js';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { AdapterConstructor, Engine } from '../engine/engine.js';
import { recoveringAdapterClass, type RecoveringAdapter } from './recovering-adapter.js';
import { explainNamespaceRefusals } from './namespace-refusal.js';
import { PendingHandshakes, watchSessions, type PendingHandshakeLimits } from './pending-handshakes.js';
import { AddressCount } from './address-count.js';
import { HandshakeRate, type HandshakeRateLimits } from './handshake-rate.js';
import type { ClientAddressOf } from '../runtime/client-address.js';
import type { UserConnections } from './user-connections.js';
import { targetOf, type OriginPolicy } from '../auth/origin-policy.js';
import { createHandshakeMiddleware, type HandshakeDeps } from './handshake.js';
import { serveForeignOriginPolling } from './foreign-origin-polling.js';
import type { HandshakeRefusals } from './handshake-refusals.js';
import type { ConnectionAddresses } from './connection-addresses.js';
import type { LogSampler } from '../runtime/log-sampler.js';
import { socketParser } from './socket-parser.js';
import type { RoomPresence } from './room-presence.js';
import type { SessionControl } from './session-control.js';
import type { TokenExpiryWatch } from './token-expiry.js';
import { isGatewayError } from '../protocol/errors.js';
import type { Metrics, RateLimit } from '../runtime/metrics.js';
import { type GatewayServer, type GatewaySocket, type SocketData } from '../protocol/socket-types.js';
import { baseRooms, joinedRooms } from '../protocol/own-rooms.js';
import { READY_EVENT } from '../protocol/events.js';

export interface SocketServerOptions {
  readonly engine: Engine;
  readonly originPolicy: OriginPolicy;
  readonly maxPayloadBytes: number;
  /** Socket.IO's `pingInterval`, `pingTimeout` and `connectTimeout`. */
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Connection-state recovery window; 0 turns recovery off. */
  readonly recoveryWindowMs: number;
  readonly isDraining: () => boolean;
  /** Caps on Engine.IO sessions no socket has entered a namespace through yet. */
  readonly pendingHandshakes: PendingHandshakeLimits;
  /** New connections per client address per second, and open connections per client address (0 = no cap). */
  readonly connectionLimits: HandshakeRateLimits & { readonly perAddress: number };
  /** Names the client address of a request (TRUST_PROXY) for every per-address limit. */
  readonly clientAddress: ClientAddressOf;
  /** Remembers the client address of each connection, for the handshakes and logs that come later. */
  readonly connectionAddresses: ConnectionAddresses;
  /** Counts the handshakes refused before any token is read, by code and limit; `undefined` = metrics off. */
  readonly metrics: Pick<Metrics, 'handshakeOutcomes' | 'rateLimit'> | undefined;
}

/** What the connection handling of `/` needs; the composition root builds each part. */
export interface RealtimeDeps {
  /** The handshake checks, without the session policy (added for `/` from `sessionControl`). */
  readonly handshake: Omit<HandshakeDeps, 'sessionControl'>;
  /** Puts the socket-event dispatcher on a new socket. */
  readonly listenToSocket: (socket: GatewaySocket) => void;
  readonly expiry: TokenExpiryWatch;
  readonly roomPresence: RoomPresence;
  readonly sessionControl: SessionControl;
  /** Connection-state recovery is on: send each new socket {@link READY_EVENT}, its first recovery offset. */
  readonly announceRecoveryStart: boolean;
  /**
   * Re-checks the identity of a socket restored by connection-state recovery (which skips the handshake):
   * rejects when its session was revoked meanwhile. `undefined` = nothing to re-check.
   */
  readonly recheckRecovered: ((data: SocketData) => Promise<void>) | undefined;
  /** MAX_CONNECTIONS_PER_USER: the handshake of `/` admits into it. */
  readonly userConnections: UserConnections;
  /** Counts connections, disconnections (by reason) and recoveries; `undefined` = metrics off. */
  readonly metrics: Pick<Metrics, 'handshakeOutcomes' | 'disconnects' | 'recoveries'> | undefined;
  readonly logger: Logger;
  /** Samples the lines a reconnect storm could repeat (connection set-up failures). */
  readonly logs: LogSampler;
}

/** Attaches Socket.IO (WebSocket and long-polling) to the HTTP server, fanning out through the engine's adapter. */
export function createSocketServer(httpServer: HttpServer, deps: SocketServerOptions): GatewayServer {
  const pending = new PendingHandshakes(deps.pendingHandshakes);
  const handshakeRate = new HandshakeRate(deps.connectionLimits);
  // Open connections per address (MAX_CONNECTIONS_PER_IP): counted only when capped.
  const open = deps.connectionLimits.perAddress > 0 ? new AddressCount() : undefined;
  const { metrics } = deps;
  /** Refuses a new Engine.IO session (with a transient code the client retries on), counted by code and limit. */
  const refuse = (callback: (code: string, allowed: boolean) => void, code: string, limit?: RateLimit) => {
    metrics?.handshakeOutcomes.refused(code);
    if (limit !== undefined) metrics?.rateLimit(limit).inc();
    callback(code, false);
  };
  coalesceWebSocketFrames();
  writeBroadcastFramesDirectly();
  capPollingPayloads();
  const io: GatewayServer = new Server(httpServer, {
    // Without an engine adapter: Socket.IO's own, or with recovery ours (RecoveringAdapter: start offsets, close() stops its timer).
    ...(deps.engine.adapter !== undefined ? { adapter: deps.engine.adapter } : deps.recoveryWindowMs > 0 ? { adapter: recoveringAdapterClass(deps.recoveryWindowMs) as unknown as AdapterConstructor } : {}),
    serveClient: false,
    parser: socketParser,
    // The transaction events' client namespaces are removed when their last socket leaves.
    cleanupEmptyChildNamespaces: true,
    maxHttpBufferSize: deps.maxPayloadBytes,
    pingInterval: deps.pingIntervalMs,
    pingTimeout: deps.pingTimeoutMs,
    connectTimeout: deps.connectTimeoutMs,
    // A client that comes back within the window (to any node, with the Redis engine) gets what it missed.
    // Middlewares are skipped on recovery: any await between reading the missed messages and re-joining
    // the rooms would lose what is published in between. The recovered socket keeps its identity and
    // token expiry (socket.data), and the connection handler re-checks its session after the join.
    ...(deps.recoveryWindowMs > 0
      ? { connectionStateRecovery: { maxDisconnectionDuration: deps.recoveryWindowMs, skipMiddlewares: true } }
      : {}),
    // The policy of the HTTP API: a listed origin (and ALLOW_REQUEST_DOMAINS) gets its Origin echoed, a
    // foreign one no CORS headers (see serveForeignOriginPolling for what its polling session reads).
    // Engine.IO hands the `cors` package its IncomingMessage, typed as the package's narrower request.
    cors: (request, callback) => callback(null, { origin: deps.originPolicy.allows(request.headers.origin, targetOf(request as IncomingMessage)), credentials: false }),
    // A draining node refuses at the Engine.IO level, which stock clients treat as a transport error and
    // retry (with backoff, to another node behind the load balancer); a middleware refusal would stop them.
    // So is a handshake past the caps on sessions without an accepted socket, or past its address's
    // handshake rate or open connections (RATE_LIMITED): transient, the client retries. Only a new session
    // comes here (never the later requests of a session), before any token is read.
    allowRequest: (req, callback) => {
      const address = deps.clientAddress(req);
      if (deps.isDraining()) refuse(callback, 'SHUTTING_DOWN');
      else if (!handshakeRate.admit(address)) refuse(callback, 'RATE_LIMITED', 'handshake_rate');
      else if (open?.admit(req, address, deps.connectionLimits.perAddress) === false) refuse(callback, 'RATE_LIMITED', 'connections_per_address');
      else if (!pending.admit(req, address)) refuse(callback, 'TOO_MANY_PENDING_HANDSHAKES', 'pending_handshakes'); // its connection_error counts `open` out
      else callback(null, true);
    },
  });
  serveForeignOriginPolling(io, deps.originPolicy);
  pending.watch(io);
  deps.connectionAddresses.watch(io);
  if (open !== undefined) watchSessions(io, open);
  explainNamespaceRefusals(io);
  return io;
}

/** What a surface with namespaces of its own (the transaction events' client namespaces) reuses from `/`. */
export interface NamespaceHooks {
  /** The handshake of `/` without the session policy (namespace sockets do not claim sessions). */
  readonly handshake: ReturnType<typeof createHandshakeMiddleware>;
  /** How a later check of theirs refuses a handshake (counted and logged as every refusal is). */
  readonly refusals: HandshakeRefusals;
  /** What `/` does for a new socket that namespace sockets need too: token expiry, handshake release, own rooms. */
  readonly onConnection: (socket: GatewaySocket) => void;
}

/**
 * Puts the gateway's behaviour on the server: every socket is authenticated by the handshake middleware,
 * joins `user:{userId}` and `session:{sessionId}`, and drops its reference to the handshake HTTP request
 * (kilobytes per connection). Answers the hooks other namespaces reuse.
 */
export function attachRealtime(io: GatewayServer, deps: RealtimeDeps): NamespaceHooks {
  const { metrics } = deps;
  // Shared by every socket (called with `this` bound to it): no per-connection closure.
  function onDisconnect(this: GatewaySocket, reason: string): void {
    deps.expiry.unwatch(this);
    metrics?.disconnects.count(reason);
  }
  async function onConnection(socket: GatewaySocket): Promise<void> {
    if (metrics !== undefined) countConnection(socket, metrics);
    releaseHandshakeRequest(socket);
    if (deps.announceRecoveryStart && !socket.recovered) announceRecoveryStart(socket);
    if (socket.recovered && deps.recheckRecovered !== undefined) {
      try {
        await deps.recheckRecovered(socket.data);
      } catch (error) {
        if (!isGatewayError(error) || error.code === 'AUTH_UNAVAILABLE') throw error; // closes the transport: the client retries
        deps.logger.info({ socketId: socket.id, userId: socket.data.userId, code: error.code }, 'recovered socket of a revoked session; logged out');
        socket.emit('auth:logout', { reason: 'session-revoked' });
        socket.disconnect(true);
        return;
      }
    }
    // A recovered socket is back in its rooms: read them before its first events (a leave) can change them.
    const restoredRooms = socket.recovered ? joinedRooms(socket) : [];
    deps.listenToSocket(socket);
    socket.on('disconnect', onDisconnect);
    deps.expiry.watch(socket);
    await socket.join(baseRooms(socket.data));
    await deps.roomPresence.watch(socket, restoredRooms);
    await deps.sessionControl.enforceAfterJoin(socket);
  }

  io.use(createHandshakeMiddleware({ ...deps.handshake, sessionControl: deps.sessionControl, userConnections: deps.userConnections }));
  const setUpFailedLine = deps.logs.line(deps.logger, 'warn', 'connection set-up failed; closing the transport');
  io.on('connection', (socket) => {
    onConnection(socket).catch((error: unknown) => {
      // E.g. Redis away while the session is re-checked. Closing the transport (not a Socket.IO disconnect)
      // makes a stock client come back by itself, through the full handshake again.
      setUpFailedLine.write(socket.conn, {}, { err: error, socketId: socket.id });
      socket.conn.close();
    });
  });
  return {
    handshake: createHandshakeMiddleware(deps.handshake),
    refusals: deps.handshake.refusals,
    // Namespace sockets only receive what is published to them: they expire with their token like any
    // socket, and join their user and session rooms in their namespace, where logouts find them.
    onConnection: (socket) => {
      if (metrics !== undefined) countConnection(socket, metrics);
      releaseHandshakeRequest(socket);
      if (deps.announceRecoveryStart && !socket.recovered) announceRecoveryStart(socket);
      socket.on('disconnect', onDisconnect);
      deps.expiry.watch(socket);
      void socket.join(baseRooms(socket.data));
    },
  };
}

/**
 * Counts a socket that connected: a handshake that passed, or a recovery. A client asking for
 * connection-state recovery sends its previous session id and offset (`pid`, `offset`) with its CONNECT;
 * when Socket.IO could not restore that session (expired, unknown) the socket is a new one, `recovered` false.
 * Read before {@link releaseHandshakeRequest} drops the auth payload.
 */
function countConnection(socket: GatewaySocket, metrics: Pick<Metrics, 'handshakeOutcomes' | 'recoveries'>): void {
  if (socket.recovered) {
    metrics.recoveries.count('recovered');
    return;
  }
  metrics.handshakeOutcomes.ok();
  const { pid, offset } = socket.handshake.auth as { pid?: unknown; offset?: unknown };
  if (typeof pid === 'string' && typeof offset === 'string') metrics.recoveries.count('not_recovered');
}

/**
 * Sends a new socket {@link READY_EVENT} through the adapter (a broadcast to the socket's own room), so it
 * carries a recovery offset. A stock client only asks for recovery with the offset of the last broadcast it
 * received: without this first one, a socket dropped before its first message would come back unrecovered
 * and lose what was published while it was away. The one-node adapter ({@link RecoveringAdapter}) gives it
 * the offset of "now" and stores nothing; a cluster adapter stores it like any broadcast (one stream entry
 * with the Redis engine). Recovered sockets already hold an offset and get none.
 */
function announceRecoveryStart(socket: GatewaySocket): void {
  socket.nsp.to(socket.id).emit(READY_EVENT);
}

/**
 * Drops what the handshake kept alive: the IncomingMessage on the Engine.IO socket, and `socket.handshake`
 * with its copies of the request's headers, URL, query and time string and the client's auth payload (which
 * holds the token). Nothing reads the handshake once the middleware has run: every socket past it shares one
 * empty handshake.
 */
function releaseHandshakeRequest(socket: GatewaySocket): void {
  // Engine.IO types `request` as always present; it is only read during the handshake, which is over.
  (socket.conn as unknown as { request: unknown }).request = null;
  // Socket.IO types `handshake` as read-only; only its middlewares and `fetchSockets` read it.
  (socket as { handshake: GatewaySocket['handshake'] }).handshake = RELEASED_HANDSHAKE;
}

/** The handshake of every socket past its middleware (an own one each would cost over 100 bytes per socket). */
const RELEASED_HANDSHAKE: GatewaySocket['handshake'] = Object.freeze({
  headers: Object.freeze({}), time: '', address: '', xdomain: false, secure: false, issued: 0, url: '', query: Object.freeze({}), auth: Object.freeze({}),
});
