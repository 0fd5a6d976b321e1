import { Type, type Static } from '@sinclair/typebox';
import { GatewayError } from './errors.js';
import { Name } from './names.js';
import { compileValidator } from './validation.js';

/**
 * The payloads of the events a socket sends, one TypeBox schema each: what the handlers accept (compiled
 * once here, refusing with HTTP's `INVALID_BODY` `{ field }` details) and what the AsyncAPI document and
 * the SDK's event types are to be generated from. Unlike HTTP bodies, payload objects may carry fields
 * they do not need (they are ignored).
 */

/** Most rooms one `room/join-rooms` names. */
const MAX_ROOMS_PER_REQUEST = 100;

/** A room the socket is already in: any non-empty name (own rooms such as `user:{id}` may exceed MAX_NAME_LENGTH). */
const JoinedRoom = Type.String({ minLength: 1 });

/** `room/join-room`, `room/leave-room`, `room/members`, seed 001's `leave` (and the un-prefixed aliases): a room name, or `{ room }`. */
export const RoomRequest = Type.Union([Name, Type.Object({ room: Name })]);
export type RoomRequest = Static<typeof RoomRequest>;

const RoomList = Type.Array(RoomRequest, { minItems: 1, maxItems: MAX_ROOMS_PER_REQUEST });

/** `room/join-rooms` (alias `join-rooms`): 1 to 100 rooms, as an array or `{ rooms }`; each a name or `{ room }`. */
export const RoomsRequest = Type.Union([RoomList, Type.Object({ rooms: RoomList })]);
export type RoomsRequest = Static<typeof RoomsRequest>;

/** `join` (seed 001): a signed join token. Declared for the documents generated from these schemas; the handler hands the token to verifyJoinToken, which checks it and refuses `JOIN_TOKEN_INVALID` (not `INVALID_BODY`). */
/** The payload of events that take none (`rooms`): whatever is sent is ignored. */
export const NoPayload = Type.Null({ description: 'Nothing (a payload is ignored)' });

export const JoinToken = Type.String({ minLength: 1 });
export type JoinToken = Static<typeof JoinToken>;

/**
 * `grantIn` (seed 002): join the room of role `ROLE` (`role:{ROLE}`, which only the token's `roles` give)
 * and the room named `host`, each if the room policy allows it.
 */
export const GrantInRequest = Type.Object({ ROLE: Type.Optional(Name), host: Type.Optional(Name) });
export type GrantInRequest = Static<typeof GrantInRequest>;

const Token = Type.String({ minLength: 1 });

/** `auth:refresh`: a new token for the same user and session, as a string or `{ token }`; none is `TOKEN_MISSING`. */
export const RefreshRequest = Type.Union([Token, Type.Object({ token: Token })]);
export type RefreshRequest = Static<typeof RefreshRequest>;

/** `history`: the messages of a room the socket is in after offset `since`, in history `epoch`. */
export const HistoryRequest = Type.Object({
  room: JoinedRoom,
  since: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  epoch: Type.Optional(Type.String()),
});
export type HistoryRequest = Static<typeof HistoryRequest>;

/** `single-chat/send-message` (seed 004): `message` (any JSON but `undefined`) for every socket of user `to`. */
export const DirectMessage = Type.Object({ to: Name, message: Type.Unknown() });
export type DirectMessage = Static<typeof DirectMessage>;

/**
 * `single-chat/send-message` as seed 004's code sends it: `message` for the one socket `target_socket_id`
 * (a Socket.IO socket id, on any node). A payload with `target_socket_id` is read as this, else as a
 * {@link DirectMessage}.
 */
export const SocketDirectMessage = Type.Object({ target_socket_id: Name, message: Type.Unknown() });
export type SocketDirectMessage = Static<typeof SocketDirectMessage>;

/**
 * `single-chat/send-message`, as documented: one of the two schemas above, which {@link readDirectMessage}
 * checks — {@link SocketDirectMessage} when the payload has `target_socket_id`, else {@link DirectMessage}.
 */
export const DirectMessageRequest = Type.Union([SocketDirectMessage, DirectMessage]);

/** `room/send-message` (seed 004): `message` (any JSON but `undefined`) for the other sockets of `room`, a room the socket is in. */
export const RoomMessage = Type.Object({ room: JoinedRoom, message: Type.Unknown() });
export type RoomMessage = Static<typeof RoomMessage>;

/**
 * An event matching CLIENT_EVENTS: `data` for the other sockets of a room the socket is in, the room named
 * `room` or (seed 001's word) `channel`; `room` wins when it is a string.
 */
export const ClientRoomEvent = Type.Union([
  Type.Object({ room: JoinedRoom, data: Type.Optional(Type.Unknown()) }),
  Type.Object({ room: Type.Optional(Type.Not(Type.String())), channel: JoinedRoom, data: Type.Optional(Type.Unknown()) }),
]);
export type ClientRoomEvent = Static<typeof ClientRoomEvent>;

const roomRequest = compileValidator(RoomRequest, 'payload');
const roomsRequest = compileValidator(RoomsRequest, 'payload');
const grantInRequest = compileValidator(GrantInRequest, 'payload');
const refreshRequest = compileValidator(RefreshRequest, 'payload');
const historyRequest = compileValidator(HistoryRequest, 'payload');
const directMessage = compileValidator(DirectMessage, 'payload');
const socketDirectMessage = compileValidator(SocketDirectMessage, 'payload');
const roomMessage = compileValidator(RoomMessage, 'payload');
const clientRoomEvent = compileValidator(ClientRoomEvent, 'payload');

/** The room a {@link RoomRequest} names; a refusal of a name sent alone calls it `room`. */
export function readRoom(payload: unknown): string {
  return roomName(roomRequest.check(payload, isObject(payload) ? undefined : 'room'));
}

/** The rooms a {@link RoomsRequest} names; a refusal of an array sent alone calls it `rooms` (`rooms[2]`). */
export function readRooms(payload: unknown): string[] {
  const request = roomsRequest.check(payload, isObject(payload) ? undefined : 'rooms');
  return (Array.isArray(request) ? request : request.rooms).map(roomName);
}

/** A checked {@link GrantInRequest}. */
export function readGrantIn(payload: unknown): GrantInRequest {
  return grantInRequest.check(payload);
}

/** The token of a {@link RefreshRequest}; `TOKEN_MISSING` when there is none. */
export function readRefreshToken(payload: unknown): string {
  if (!refreshRequest.matches(payload)) throw new GatewayError('TOKEN_MISSING', 'auth:refresh needs a token: emit("auth:refresh", token) or { token }');
  return typeof payload === 'string' ? payload : payload.token;
}

/** A checked {@link HistoryRequest}. */
export function readHistoryRequest(payload: unknown): HistoryRequest {
  return historyRequest.check(payload);
}

/** A checked {@link SocketDirectMessage} when the payload has `target_socket_id`, else a checked {@link DirectMessage}. */
export function readDirectMessage(payload: unknown): DirectMessage | SocketDirectMessage {
  return isObject(payload) && Object.hasOwn(payload as object, 'target_socket_id') ? socketDirectMessage.check(payload) : directMessage.check(payload);
}

/** A checked {@link RoomMessage}. */
export function readRoomMessage(payload: unknown): RoomMessage {
  return roomMessage.check(payload);
}

/** A checked {@link ClientRoomEvent}, as the room it names and its data. */
export function readClientRoomEvent(payload: unknown): { room: string; data: unknown } {
  const event = clientRoomEvent.check(payload);
  // The schema holds `channel` whenever `room` is not a string.
  const room = typeof event.room === 'string' ? event.room : (event as { channel: string }).channel;
  return { room, data: event.data };
}

function roomName(request: RoomRequest): string {
  return typeof request === 'string' ? request : request.room;
}

function isObject(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload);
}
