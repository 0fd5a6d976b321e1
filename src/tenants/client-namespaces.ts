import type { Logger } from 'pino';
import type { ExtendedError } from 'socket.io';
import { GatewayError, isGatewayError } from '../errors/catalog.js';
import { toConnectError } from '../realtime/handshake.js';
import type { GatewayServer, GatewaySocket } from '../types/socket.js';
import type { ClientRegistry } from './client-registry.js';

/** `/{clientId}` (every event the client subscribes to) or `/{clientId}/{eventName}` (one event). */
export const CLIENT_NAMESPACE = /^\/([^/]+)(?:\/([^/]+))?$/;

type Middleware = (socket: GatewaySocket, next: (err?: ExtendedError) => void) => void | Promise<void>;

/** The role that may connect to every client's namespaces and call the seed-000 routes with a JWT. */
export const ADMIN_ROLE = 'admin';

/**
 * Seed 000's dynamic namespaces: nothing is declared at start-up; a connection to `/{clientId}` or
 * `/{clientId}/{eventName}` passes the same handshake as `/` (token, origin, session policy), then needs a
 * registered client (`UNKNOWN_CLIENT`), a subscribed event (`EVENT_NOT_SUBSCRIBED`), and a token whose
 * `clientId` claim is that client or that has the `admin` role (`CLIENT_FORBIDDEN`).
 */
export function attachClientNamespaces(io: GatewayServer, handshake: Middleware, registry: ClientRegistry, logger: Logger): void {
  const parent = io.of(CLIENT_NAMESPACE);
  parent.use(handshake);
  parent.use(async (socket, next) => {
    try {
      const [, clientId = '', eventName] = CLIENT_NAMESPACE.exec(socket.nsp.name) ?? [];
      const client = await registry.get(decodeURIComponent(clientId));
      if (client === undefined) throw new GatewayError('UNKNOWN_CLIENT', `No client "${clientId}" is registered`);
      if (eventName !== undefined && !client.subscriptions.includes(eventName)) {
        throw new GatewayError('EVENT_NOT_SUBSCRIBED', `Client "${clientId}" does not subscribe to "${eventName}"`);
      }
      if (socket.data.clientId !== client.clientId && socket.data.roles?.includes(ADMIN_ROLE) !== true) throw new GatewayError('CLIENT_FORBIDDEN');
      next();
    } catch (error) {
      if (!isGatewayError(error)) logger.error({ err: error }, 'client namespace check failed');
      next(toConnectError(isGatewayError(error) ? error : new GatewayError('ENGINE_UNAVAILABLE')));
    }
  });
}

/** The namespaces a client's sockets can be in: its own, and one per transaction event. */
export function clientNamespaces(clientId: string, events: readonly string[]): string[] {
  return [`/${clientId}`, ...events.map((event) => `/${clientId}/${event}`)];
}
