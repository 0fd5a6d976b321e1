import { GatewayError } from '../protocol/errors.js';
import type { GatewaySocket } from '../protocol/socket-types.js';

/**
 * Refuses with `ROOM_FORBIDDEN` ("This socket is not in …") what only a member of the room may do: read
 * its history or members, send to it, leave it. Membership is this node's own view of the socket.
 */
export function assertInRoom(socket: GatewaySocket, room: string): void {
  if (!socket.rooms.has(room)) throw new GatewayError('ROOM_FORBIDDEN', `This socket is not in "${room}"`);
}
