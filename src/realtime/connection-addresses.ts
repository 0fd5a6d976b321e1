import type { IncomingMessage } from 'node:http';
import type { ClientAddressOf } from '../runtime/client-address.js';
import type { GatewayServer } from '../protocol/socket-types.js';

/**
 * The client address of each Engine.IO connection (TRUST_PROXY applied), named once when it opens: the
 * handshake request it comes from is dropped once a socket connects, but later handshakes on the same
 * connection (other namespaces) and the socket's own logs still need it. Held weakly, per connection.
 */
export class ConnectionAddresses {
  private readonly byConnection = new WeakMap<object, string>();

  constructor(private readonly clientAddress: ClientAddressOf) {}

  /** Names the address of every connection `io` opens. */
  watch(io: GatewayServer): void {
    io.engine.on('connection', (connection: { request: IncomingMessage }) => {
      this.byConnection.set(connection, this.clientAddress(connection.request));
    });
  }

  /** The client address of `connection` (an Engine.IO socket, `socket.conn`). */
  of(connection: object): string {
    return this.byConnection.get(connection) ?? 'unknown';
  }
}
