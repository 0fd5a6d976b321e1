import type { GatewaySocket, SocketData } from './socket-types.js';

/**
 * The rooms the gateway puts every socket in from its identity — `user:{userId}`, `session:{sessionId}`,
 * `role:{role}` — as opposed to the rooms a socket joins itself. Publishing to users and sessions targets them.
 */
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
