import type { Namespace, Server, Socket } from 'socket.io';

/** What each connected socket carries in `socket.data` (set by the handshake, before any handler runs). */
export interface SocketData {
  userId: string;
  sessionId: string | undefined;
  /** Unix milliseconds. */
  connectedAt: number;
  /** Unix milliseconds after which the token is no longer valid; `undefined` for tokens without `exp`. */
  expiresAt: number | undefined;
  /** Rooms (names or `*` patterns) the token grants; absent when it grants none. */
  rooms?: readonly string[];
  /** Seed 002: the token's roles; the socket is in `role:{role}` for each. */
  roles?: readonly string[];
  /** Seed 000: the client (tenant) whose namespaces the token may connect to. */
  clientId?: string;
  /** Seed 004: the token's permissions (EVENT_PERMISSIONS checks them). */
  permissions?: readonly string[];
  /** Seed 001: per channel joined with a join token carrying `data.webhook_url`, that URL. */
  channelWebhooks?: Record<string, string>;
}

/**
 * Socket.IO's event maps are left open (`Record<string, any>`-shaped defaults) on purpose: the gateway
 * relays arbitrary backend events. This is the documented `any` boundary of the realtime layer.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OpenEvents = Record<string, (...args: any[]) => void>;

export type GatewayServer = Server<OpenEvents, OpenEvents, OpenEvents, SocketData>;
export type GatewaySocket = Socket<OpenEvents, OpenEvents, OpenEvents, SocketData>;
export type GatewayNamespace = Namespace<OpenEvents, OpenEvents, OpenEvents, SocketData>;

export const userRoom = (userId: string): string => `user:${userId}`;
export const sessionRoom = (sessionId: string): string => `session:${sessionId}`;
export const roleRoom = (role: string): string => `role:${role}`;

/** A socket's own rooms: its id, `user:{userId}`, with a session `session:{sessionId}`, and `role:{role}` per role. */
export function ownRooms(socket: GatewaySocket): Set<string> {
  const own = new Set([socket.id, ...baseRooms(socket.data)]);
  return own;
}

/** The rooms the gateway puts a socket in from its identity (not counting its id room). */
export function baseRooms(data: Pick<SocketData, 'userId' | 'sessionId' | 'roles'>): string[] {
  return [
    userRoom(data.userId),
    ...(data.sessionId === undefined ? [] : [sessionRoom(data.sessionId)]),
    ...(data.roles ?? []).map(roleRoom),
  ];
}

/** The rooms a socket joined itself: all its rooms but its own. */
export function joinedRooms(socket: GatewaySocket): string[] {
  const own = ownRooms(socket);
  return [...socket.rooms].filter((room) => !own.has(room));
}
