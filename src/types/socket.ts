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

/** A socket's own rooms: its id, `user:{userId}` and, with a session, `session:{sessionId}`. */
export function ownRooms(socket: GatewaySocket): Set<string> {
  const own = new Set([socket.id, userRoom(socket.data.userId)]);
  if (socket.data.sessionId !== undefined) own.add(sessionRoom(socket.data.sessionId));
  return own;
}

/** The rooms a socket joined itself: all its rooms but its own. */
export function joinedRooms(socket: GatewaySocket): string[] {
  const own = ownRooms(socket);
  return [...socket.rooms].filter((room) => !own.has(room));
}
