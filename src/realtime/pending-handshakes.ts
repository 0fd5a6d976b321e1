import type { IncomingMessage } from 'node:http';
import type { GatewayServer, GatewaySocket } from '../protocol/socket-types.js';
import { AddressCount } from './address-count.js';

export interface PendingHandshakeLimits {
  /** Unauthenticated Engine.IO sessions one client address may hold at once; 0 = no per-address cap. */
  readonly perAddress: number;
  /** Unauthenticated Engine.IO sessions the node holds at once. */
  readonly total: number;
}

/** An Engine.IO session as far as this count needs it. */
interface EngineSession {
  readonly request: IncomingMessage;
  on(event: 'close', listener: (this: EngineSession) => void): unknown;
}

/**
 * Counts the Engine.IO sessions that have not entered a Socket.IO namespace yet — opened, but no token
 * accepted. Engine.IO keeps each until the client sends a CONNECT that passes, or until the connect timeout
 * or the ping timeout ends it; without a cap, one address could hold hundreds of thousands. Past a cap the
 * handshake is refused at the Engine.IO level (`allowRequest`), which a stock client takes as a transport
 * error and retries with its backoff: a transient refusal.
 *
 * A session counts from its handshake request (counted in `allowRequest`, so a flood cannot pass in the
 * gap before Engine.IO opens it) until its first socket connects, its handshake fails, or it closes. The
 * client address is the one `clientAddressResolver` names (the TCP peer's unless TRUST_PROXY says otherwise).
 */
export class PendingHandshakes {
  private readonly held = new AddressCount();

  constructor(private readonly limits: PendingHandshakeLimits) {}

  /** Counts a new handshake request from `address` in, or answers false when the address or the node is at its cap. */
  admit(request: IncomingMessage, address: string): boolean {
    return this.held.admit(request, address, this.limits.perAddress, this.limits.total);
  }

  /** Unauthenticated sessions held now (from `address` when given). */
  count(address?: string): number {
    return this.held.count(address);
  }

  /** Counts the sessions of `io` out when they enter their first namespace, fail their handshake, or end. */
  watch(io: GatewayServer): void {
    const settleOnClose = watchSessions(io, this.held);
    // A session that entered a namespace is no longer pending: its close listener goes with its count.
    const settleSocket = (socket: GatewaySocket) => {
      if (this.held.settle(socket.conn)) socket.conn.off('close', settleOnClose);
    };
    io.on('connection', settleSocket);
    io.on('new_namespace', (namespace) => namespace.on('connection', settleSocket));
  }
}

/**
 * Keeps `count` following Engine.IO: a counted handshake request is handed over to the session it opens
 * and counted out when that session closes, or when the handshake fails (refused, bad transport, …).
 * Answers the close listener it puts on each counted session: one function for all of them (called with
 * `this` bound to the session), so a session costs its count nothing but the registration.
 */
export function watchSessions(io: GatewayServer, count: AddressCount): (this: EngineSession) => void {
  function settleOnClose(this: EngineSession): void {
    count.settle(this);
  }
  io.engine.on('connection', (session: EngineSession) => {
    if (count.handOver(session.request, session)) session.on('close', settleOnClose);
  });
  io.engine.on('connection_error', (error: { req?: IncomingMessage }) => {
    if (error.req !== undefined) count.settle(error.req);
  });
  return settleOnClose;
}
