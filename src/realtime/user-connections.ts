import { userRoom } from '../protocol/own-rooms.js';
import type { GatewaySocket } from '../protocol/socket-types.js';

/**
 * MAX_CONNECTIONS_PER_USER: the cap on each user's sockets in `/` on this node (not cluster-wide). It keeps
 * no count and no listener of its own: a user's sockets are the members of their `user:{userId}` room in
 * the node's adapter. The handshake puts a socket in that room the moment it admits it — before Socket.IO
 * accepts the socket, so a burst of simultaneous handshakes cannot all pass the check — and Socket.IO takes
 * it out when the socket is refused later in the handshake, dropped before it is accepted, or disconnects.
 * A socket restored by connection-state recovery comes back in its rooms, so it counts without the cap.
 */
export class UserConnections {
  /** @param max - sockets one user may hold; 0 = no cap. */
  constructor(private readonly max: number) {}

  /** Counts `socket` in for `userId` (joins its user room), or answers false when the user holds `max` already. */
  admit(socket: GatewaySocket, userId: string): boolean {
    if (this.max === 0) return true;
    const room = userRoom(userId);
    if ((socket.nsp.adapter.rooms.get(room)?.size ?? 0) >= this.max) return false;
    // Synchronous with every Socket.IO adapter (a join is local): the check and the join cannot interleave.
    void socket.join(room);
    return true;
  }
}
