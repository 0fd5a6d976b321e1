import { roleRoom, sessionRoom, userRoom } from '../protocol/own-rooms.js';
import type { GatewayServer } from '../protocol/socket-types.js';
import type { GaugeSample } from '../runtime/metrics.js';
import { namespaceTable } from './namespace-table.js';

/** The transports a socket can be on; each is reported for `/` even at 0. */
const TRANSPORTS = ['websocket', 'polling'] as const;

/**
 * `switchboard_connections`, read when scraped from Socket.IO's own tables: this node's sockets, by
 * transport and namespace. `namespaceLabel` names each namespace for the label (a template for the client
 * namespaces, whose own names would make one series per client). One pass over the sockets per scrape;
 * nothing is kept between scrapes.
 */
export function connectionSamples(io: GatewayServer, namespaceLabel: (name: string) => string): GaugeSample[] {
  const samples = new Map<string, { labels: Record<string, string>; value: number }>();
  const add = (namespace: string, transport: string, count: number) => {
    const key = `${namespace}\n${transport}`;
    const sample = samples.get(key);
    if (sample === undefined) samples.set(key, { labels: { namespace, transport }, value: count });
    else sample.value += count;
  };
  for (const transport of TRANSPORTS) add('/', transport, 0);
  for (const namespace of namespaceTable(io).values()) {
    const label = namespaceLabel(namespace.name);
    for (const socket of namespace.sockets.values()) add(label, socket.conn.transport.name, 1);
  }
  return [...samples.values()];
}

/** `switchboard_rooms` (by kind) and `switchboard_presence_users`, read from the room index of `/` on this node. */
export function roomSamples(io: GatewayServer): { rooms: GaugeSample[]; users: GaugeSample[] } {
  const { adapter } = io.of('/');
  const ownPrefixes = [userRoom(''), sessionRoom(''), roleRoom('')];
  const userPrefix = userRoom('');
  let joined = 0;
  let own = 0;
  let users = 0;
  for (const room of adapter.rooms.keys()) {
    if (adapter.sids.has(room)) continue; // a socket's private room
    if (room.startsWith(userPrefix)) users += 1;
    if (ownPrefixes.some((prefix) => room.startsWith(prefix))) own += 1;
    else joined += 1;
  }
  return {
    rooms: [{ labels: { kind: 'joined' }, value: joined }, { labels: { kind: 'own' }, value: own }],
    users: [{ labels: {}, value: users }],
  };
}
