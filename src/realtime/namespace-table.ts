import type { Namespace } from 'socket.io';
import type { GatewayNamespace, GatewayServer } from '../protocol/socket-types.js';

/**
 * Socket.IO's table of a server's namespaces, by name: `/` and every namespace `io.of()` made, the transaction events'
 * client namespaces included.
 *
 * The one place Switchboard reads Socket.IO's private server fields (socket.io 4.8), because the public
 * API can neither list a server's namespaces nor forget one. Logouts walk it to reach every namespace;
 * the client namespaces delete a refused connection's empty namespace from it, as Socket.IO's own
 * `cleanupEmptyChildNamespaces` does. Check it when upgrading socket.io (test/transactions.test.ts
 * counts the table); a release without the field fails here, loudly, instead of somewhere downstream.
 */
export function namespaceTable(io: GatewayServer): Map<string, GatewayNamespace> {
  const table = (io as unknown as { _nsps?: unknown })._nsps;
  if (!(table instanceof Map)) throw new Error('socket.io no longer keeps its namespaces in Server._nsps: adapt namespaceTable()');
  return table as Map<string, GatewayNamespace>;
}

/**
 * Makes `io.of(name)` create a child of `parent` for every name `pattern` matches, as it does for a
 * parent made from a regular expression. A parent made from a function (`io.of((name, auth, next) => …)`,
 * which decides whether a connection may create a namespace) is not consulted by `io.of(name)`: publishing
 * to a name no socket is in would otherwise create a bare namespace, without the parent's middlewares,
 * that later connections would enter unchecked. Socket.IO keeps its regular-expression parents in the
 * private `Server.parentNamespacesFromRegExp` (socket.io 4.8).
 */
export function routeNamesToParent(io: GatewayServer, pattern: RegExp, parent: Namespace): void {
  const parents = (io as unknown as { parentNamespacesFromRegExp?: unknown }).parentNamespacesFromRegExp;
  if (!(parents instanceof Map)) throw new Error('socket.io no longer keeps Server.parentNamespacesFromRegExp: adapt routeNamesToParent()');
  (parents as Map<RegExp, Namespace>).set(pattern, parent);
}
