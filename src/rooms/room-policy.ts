import { GatewayError } from '../protocol/errors.js';
import { type GatewaySocket } from '../protocol/socket-types.js';
import { joinedRooms, ownRooms, roleRoom, sessionRoom, userRoom } from '../protocol/own-rooms.js';
import { anyMatches, RoomPattern } from '../protocol/room-pattern.js';

/** How a socket asks to join: by name (room events) or with a signed join token (`join`). */
export type JoinVia = 'name' | 'join-token';

/**
 * Who may join which room — one policy for every way of joining:
 * never another user's or session's room, nor a room named after another socket's id; otherwise a room
 * granted by the socket's token (`rooms` claim), matching PUBLIC_ROOMS, or named in a valid join token.
 * A socket is in at most MAX_ROOMS_PER_SOCKET rooms besides its own.
 */
export class RoomPolicy {
  private readonly publicRooms: readonly RoomPattern[];

  constructor(publicRooms: readonly string[], private readonly maxRooms: number) {
    this.publicRooms = publicRooms.map((source) => new RoomPattern(source));
  }

  /** Refuses with ROOM_FORBIDDEN or ROOM_LIMIT_REACHED; a room the socket is already in always passes. */
  assertMayJoin(socket: GatewaySocket, room: string, via: JoinVia): void {
    if (socket.rooms.has(room)) return;
    if (isReserved(room) || socket.nsp.adapter.sids.has(room) || SOCKET_ID.test(room)) {
      throw new GatewayError('ROOM_FORBIDDEN', `"${room}" belongs to another user, session or socket`);
    }
    const granted = via === 'join-token'
      || anyMatches(this.publicRooms, room)
      || (socket.data.rooms !== undefined && anyMatches(socket.data.rooms.map((source) => new RoomPattern(source)), room));
    if (!granted) throw new GatewayError('ROOM_FORBIDDEN', `This socket may not join "${room}"`);
    if (joinedRooms(socket).length >= this.maxRooms) {
      throw new GatewayError('ROOM_LIMIT_REACHED', `A socket is in at most ${this.maxRooms} rooms (MAX_ROOMS_PER_SOCKET)`);
    }
  }

  /** Refuses to leave the socket's own rooms (its id, user and session rooms). */
  assertMayLeave(socket: GatewaySocket, room: string): void {
    if (ownRooms(socket).has(room)) throw new GatewayError('ROOM_FORBIDDEN', `"${room}" is this socket's own room`);
  }
}

/**
 * Socket.IO's socket ids (20 URL-safe base64 characters): every socket is alone in the room of its id, so
 * such names are never joinable — also when the socket lives on another node.
 */
const SOCKET_ID = /^[A-Za-z0-9_-]{20}$/;

function isReserved(room: string): boolean {
  return room.startsWith(userRoom('')) || room.startsWith(sessionRoom('')) || room.startsWith(roleRoom(''));
}


