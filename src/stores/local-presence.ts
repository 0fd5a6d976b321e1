import { type GatewayNamespace } from '../protocol/socket-types.js';
import { userRoom } from '../protocol/own-rooms.js';
import type { PresenceReader, PresenceStats, RoomInfo, UserConnection, UserPresence } from './presence.js';

/**
 * Presence read straight from the local Socket.IO adapter's room index, so it costs no memory of its own.
 * Rooms named after a socket id (every socket's private room) are not listed.
 */
export class LocalPresenceReader implements PresenceReader {
  constructor(private readonly namespace: () => GatewayNamespace) {}

  async rooms(prefix = '', limit = 1000): Promise<RoomInfo[]> {
    const { adapter } = this.namespace();
    const out: RoomInfo[] = [];
    for (const [room, members] of adapter.rooms) {
      if (out.length >= limit) break;
      if (adapter.sids.has(room) || !room.startsWith(prefix)) continue;
      out.push({ room, sockets: members.size });
    }
    return out;
  }

  async roomSize(room: string): Promise<number> {
    const { adapter } = this.namespace();
    return adapter.sids.has(room) ? 0 : (adapter.rooms.get(room)?.size ?? 0);
  }

  async user(userId: string): Promise<UserPresence> {
    const nsp = this.namespace();
    const connections: UserConnection[] = [];
    for (const socketId of nsp.adapter.rooms.get(userRoom(userId)) ?? []) {
      const socket = nsp.sockets.get(socketId);
      if (socket === undefined) continue;
      const { sessionId, connectedAt } = socket.data;
      const rooms = [...socket.rooms].filter((room) => room !== socketId);
      connections.push({ socketId, userId, sessionId, connectedAt, rooms });
    }
    const sessions = [...new Set(connections.flatMap((c) => (c.sessionId === undefined ? [] : [c.sessionId])))];
    return { userId, connections, sessions };
  }

  async stats(): Promise<PresenceStats> {
    const { adapter } = this.namespace();
    let users = 0;
    let rooms = 0;
    for (const room of adapter.rooms.keys()) {
      if (adapter.sids.has(room)) continue;
      rooms += 1;
      if (room.startsWith(userRoom(''))) users += 1;
    }
    return { connections: adapter.sids.size, users, rooms };
  }
}
