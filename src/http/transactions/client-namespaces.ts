import type { Logger } from 'pino';
import type { Namespace } from 'socket.io';
import { ADMIN_ROLE } from '../../auth/permissions.js';
import { GatewayError, isGatewayError } from '../../protocol/errors.js';
import { namespaceTable, routeNamesToParent } from '../../realtime/namespace-table.js';
import { refuseNamespace } from '../../realtime/namespace-refusal.js';
import type { NamespaceHooks } from '../../realtime/socket-server.js';
import type { GatewayServer, GatewaySocket } from '../../protocol/socket-types.js';
import type { ClientRecord, ClientRegistry } from '../../stores/client-registry.js';

/** Characters of a client id and of a transaction event name (URL-safe, so namespace names never need decoding). */
export const CLIENT_ID_PATTERN = '^[A-Za-z0-9._~-]{1,128}$';
const SEGMENT = '[A-Za-z0-9._~-]{1,128}';

/** `/{clientId}` (every event the client subscribes to) or `/{clientId}/{eventName}` (one event). */
export const CLIENT_NAMESPACE = new RegExp(`^/(${SEGMENT})(?:/(${SEGMENT}))?$`);

export interface ClientNamespaceDeps extends NamespaceHooks {
  readonly registry: ClientRegistry;
  readonly logger: Logger;
}

/**
 * Seed 000's dynamic namespaces: nothing is declared at start-up; a connection to `/{clientId}` or
 * `/{clientId}/{eventName}` needs a registered client (`UNKNOWN_CLIENT`) and a subscribed event
 * (`EVENT_NOT_SUBSCRIBED`) — decided before Socket.IO creates the namespace, so a made-up name never
 * creates one — then passes the handshake of `/` (token, origin) and needs a token whose `clientId` claim
 * is that client or that has the `admin` role (`CLIENT_FORBIDDEN`). A namespace a refused connection
 * created (a registered client's, nobody in it) is removed again at once.
 */
export function attachClientNamespaces(io: GatewayServer, deps: ClientNamespaceDeps): void {
  const parent = io.of((name, _auth, next) => {
    const match = CLIENT_NAMESPACE.exec(name);
    if (match === null) return next(null, false);
    const [, clientId = '', eventName] = match;
    deps.registry.get(clientId).then(
      (client) => {
        const refusal = clientRefusal(client, clientId, eventName);
        if (refusal === undefined) next(null, true);
        else refuseNamespace(next, refusal);
      },
      // The registry cannot answer (Redis away): a transient refusal must close the connection so the
      // client retries, which only the middleware below can do; it checks again and drops the namespace.
      () => next(null, true),
    ).catch((error: unknown) => deps.logger.error({ err: error }, 'client namespace creation failed'));
  });
  // Publishing to and disconnecting a client's namespaces (`io.of(name)`) creates it as a child, with the checks below.
  routeNamesToParent(io, CLIENT_NAMESPACE, parent);
  parent.use(deps.handshake);
  // The namespace may exist already (a socket is in it, or something was published to it): the matcher did not run.
  parent.use(async (socket, next) => {
    try {
      const [, clientId = '', eventName] = CLIENT_NAMESPACE.exec(socket.nsp.name) ?? [];
      const client = await deps.registry.get(clientId);
      const refusal = clientRefusal(client, clientId, eventName);
      if (refusal !== undefined) throw refusal;
      if (socket.data.clientId !== client?.clientId && socket.data.roles?.includes(ADMIN_ROLE) !== true) throw new GatewayError('CLIENT_FORBIDDEN');
      next();
    } catch (error) {
      if (!isGatewayError(error)) deps.refusals.failedUnexpectedly(socket, error);
      deps.refusals.refuse(socket, next, isGatewayError(error) ? error : new GatewayError('ENGINE_UNAVAILABLE'));
      setImmediate(() => dropIfEmpty(io, parent as unknown as { children: Set<unknown> }, socket.nsp));
    }
  });
  parent.on('connection', deps.onConnection);
}

/** Why a connection to the client's namespace (or to one of its events') is refused whoever asks; `undefined` = it is not. */
function clientRefusal(client: ClientRecord | undefined, clientId: string, eventName: string | undefined): GatewayError | undefined {
  if (client === undefined) return new GatewayError('UNKNOWN_CLIENT', `No client "${clientId}" is registered`);
  if (eventName !== undefined && !client.subscriptions.includes(eventName)) {
    return new GatewayError('EVENT_NOT_SUBSCRIBED', `Client "${clientId}" does not subscribe to "${eventName}"`);
  }
  return undefined;
}

/**
 * A namespace's name in the metrics' `namespace` label: `/`, or the template of a client namespace
 * (`/{clientId}`, `/{clientId}/{event}`) — their own names would make one series per client.
 */
export function namespaceLabel(name: string): string {
  if (name === '/') return '/';
  const match = CLIENT_NAMESPACE.exec(name);
  if (match === null) return 'other';
  return match[2] === undefined ? '/{clientId}' : '/{clientId}/{event}';
}

/** The namespaces a client's sockets can be in: its own, and one per transaction event. */
export function clientNamespaces(clientId: string, events: readonly string[]): string[] {
  return [`/${clientId}`, ...events.map((event) => `/${clientId}/${event}`)];
}

/** Disconnects every socket of the named client namespaces, on every node; the clients' other namespaces on the same connection stay. */
export type DisconnectNamespaces = (names: readonly string[]) => void;

/** The {@link DisconnectNamespaces} of a server: `disconnectSockets` in each namespace (through its adapter, so on every node). */
export function namespaceDisconnector(io: GatewayServer): DisconnectNamespaces {
  return (names) => {
    for (const name of names) io.of(name).disconnectSockets(false);
  };
}

/**
 * Removes a child namespace nobody is in, as Socket.IO's own `cleanupEmptyChildNamespaces` does — which
 * only runs when a socket leaves, never for a refused one. Socket.IO keeps the parent's children private too.
 */
function dropIfEmpty(io: GatewayServer, parent: { children: Set<unknown> }, namespace: Namespace | GatewaySocket['nsp']): void {
  if (namespace.sockets.size > 0) return;
  namespace.adapter.close();
  namespaceTable(io).delete(namespace.name);
  parent.children.delete(namespace);
}
