import type { GatewayError } from '../protocol/errors.js';
import type { GatewaySocket } from '../protocol/socket-types.js';
import type { SeedRefusalFields } from './acknowledged-listener.js';

/**
 * The acks of seed 004's room service, in its wording, beside Switchboard's own fields (`ok`, `results`,
 * `id`): `status`, a `message` its client code reads (`response.message`), what it echoed (`room`,
 * `rooms`) and `user`, the socket id. Refusals get `status: false` and the seed's failure wording here,
 * and the catalog `error` beside them (`refusalAnswer` in `acknowledged-listener.ts`: one shape for every refusal).
 */

/** `room/join-room`: `{ ok, status, message: "Joined room: <room>", room, user }`. */
export function joinedRoom(socket: GatewaySocket, room: string) {
  return { ok: true, status: true, message: `Joined room: ${room}`, room, user: socket.id } as const;
}

/** One room of a `room/join-rooms`: joined, or the refusal of that room. */
export type RoomJoinResult = { readonly room: string; readonly ok: true } | { readonly room: string; readonly error: ReturnType<GatewayError['toBody']> };

/**
 * `room/join-rooms`: `{ status: true, message: "Joined rooms: a, b", rooms, user, results }` when every room
 * was joined; when some were refused `status: false` and "Error joining rooms: <the refused ones>" (the
 * others are joined; `results` says which is which).
 */
export function joinedRooms(socket: GatewaySocket, rooms: readonly string[], results: readonly RoomJoinResult[]) {
  const refused = results.filter((result) => !('ok' in result)).map((result) => result.room);
  return refused.length === 0
    ? { status: true, message: `Joined rooms: ${rooms.join(', ')}`, rooms, user: socket.id, results }
    : { status: false, message: `Error joining rooms: ${refused.join(', ')}`, rooms, user: socket.id, results };
}

/** `room/leave-room`: `{ ok, status, message: "User left room: <room>", room }`. */
export function leftRoom(room: string) {
  return { ok: true, status: true, message: `User left room: ${room}`, room } as const;
}

/** `room/send-message`: `{ ok, status, message: "message received", room, id }` (`id`: the message's id). */
export function roomMessageReceived(room: string, id: string) {
  return { ok: true, status: true, message: 'message received', room, id } as const;
}

/** A refused `room/join-room`: "Error joining room <room>", as the seed's catch branch said. */
export const joinRoomRefusal: SeedRefusalFields = (_socket, payload) => {
  const room = roomNamed(payload);
  return room === undefined ? { message: 'Error joining room' } : { message: `Error joining room ${room}`, room };
};

/** A refused `room/join-rooms` (the whole request): "Error joining rooms: a, b". */
export const joinRoomsRefusal: SeedRefusalFields = (_socket, payload) => {
  const rooms = roomsNamed(payload);
  return rooms.length === 0 ? { message: 'Error joining rooms' } : { message: `Error joining rooms: ${rooms.join(', ')}`, rooms };
};

/** A refused `room/leave-room`: "User is not in room: <room>" when that is why, else "Error leaving the room". */
export const leaveRoomRefusal: SeedRefusalFields = (socket, payload, refusal) => {
  const room = roomNamed(payload);
  if (room === undefined) return { message: 'Error leaving the room' };
  return { message: isNotInRoom(socket, room, refusal) ? notInRoomWording(room) : 'Error leaving the room', room };
};

/** A refused `room/send-message` (the seed never refused one): "User is not in room: <room>" when that is why, else the catalog's message. */
export const sendMessageRefusal: SeedRefusalFields = (socket, payload, refusal) => {
  const room = roomNamed(payload);
  if (room === undefined) return { message: refusal.message };
  return { message: isNotInRoom(socket, room, refusal) ? notInRoomWording(room) : refusal.message, room };
};

/** The seed's wording for a room the socket is not in. */
function notInRoomWording(room: string): string {
  return `User is not in room: ${room}`;
}

function isNotInRoom(socket: GatewaySocket, room: string, refusal: GatewayError): boolean {
  return refusal.code === 'ROOM_FORBIDDEN' && !socket.rooms.has(room);
}

/** The room a payload names (a name, or `{ room }`), read leniently for the echo of a refusal; none when it names none. */
function roomNamed(payload: unknown): string | undefined {
  if (typeof payload === 'string') return payload;
  const room = isRecord(payload) ? payload.room : undefined;
  return typeof room === 'string' ? room : undefined;
}

/** The room names a `room/join-rooms` payload holds (`[names]` or `{ rooms }`), read leniently for the echo of a refusal. */
function roomsNamed(payload: unknown): string[] {
  const list: unknown = isRecord(payload) ? payload.rooms : payload;
  return Array.isArray(list) ? list.map(roomNamed).filter((room): room is string => room !== undefined) : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
