import type { IncomingMessage } from 'node:http';
import type { GatewayServer, GatewaySocket } from '../protocol/socket-types.js';

export interface PendingHandshakeLimits {
  /** Unauthenticated Engine.IO sessions one client address may hold at once; 0 = no per-address cap. */
  readonly perAddress: number;
  /** Unauthenticated Engine.IO sessions the node holds at once. */
  readonly total: number;
}

/** An Engine.IO session as far as this count needs it. */
interface EngineSession {
  readonly request: IncomingMessage;
  once(event: 'close', listener: () => void): unknown;
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
 * client address is the TCP peer's.
 */
export class PendingHandshakes {
  private readonly byAddress = new Map<string, number>();
  private total = 0;
  /** The address each counted handshake request, then its session once opened, is counted under. */
  private readonly counted = new WeakMap<object, string>();

  constructor(private readonly limits: PendingHandshakeLimits) {}

  /** Counts a new handshake request in, or answers false when its address or the node is at its cap. */
  admit(request: IncomingMessage): boolean {
    const address = request.socket.remoteAddress ?? '';
    const held = this.byAddress.get(address) ?? 0;
    if (this.total >= this.limits.total || (this.limits.perAddress > 0 && held >= this.limits.perAddress)) return false;
    this.byAddress.set(address, held + 1);
    this.total += 1;
    this.counted.set(request, address);
    return true;
  }

  /** Unauthenticated sessions held now (from `address` when given). */
  count(address?: string): number {
    return address === undefined ? this.total : this.byAddress.get(address) ?? 0;
  }

  /** Counts the sessions of `io` out when they enter their first namespace, fail their handshake, or end. */
  watch(io: GatewayServer): void {
    io.engine.on('connection', (session: EngineSession) => {
      const address = this.counted.get(session.request);
      if (address === undefined) return;
      this.counted.delete(session.request);
      this.counted.set(session, address);
      session.once('close', () => this.settle(session));
    });
    io.engine.on('connection_error', (error: { req?: IncomingMessage }) => {
      if (error.req !== undefined) this.settle(error.req);
    });
    const settleSocket = (socket: GatewaySocket) => this.settle(socket.conn);
    io.on('connection', settleSocket);
    io.on('new_namespace', (namespace) => namespace.on('connection', settleSocket));
  }

  /** Counts out the handshake request or session `key` (once; later calls do nothing). */
  private settle(key: object): void {
    const address = this.counted.get(key);
    if (address === undefined) return;
    this.counted.delete(key);
    this.total -= 1;
    const held = (this.byAddress.get(address) ?? 1) - 1;
    if (held > 0) this.byAddress.set(address, held);
    else this.byAddress.delete(address);
  }
}
