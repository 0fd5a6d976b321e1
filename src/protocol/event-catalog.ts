import { Type, type TSchema } from '@sinclair/typebox';
import { HistoryAnswer, RoomMembersAnswer } from './answer-schemas.js';
import { ErrorAnswerSchema, ErrorBodySchema } from './error-schema.js';
import { READY_EVENT } from './events.js';
import {
  ChannelAck, DeliveryMeta, DirectMessageAck, DirectMessageEvent, ExpiredEvent, GrantInAck, JoinedRoomAck, JoinedRoomsAck, LeftRoomAck,
  LogoutEvent, PresenceEvent, RefreshedAck, RelayedAck, RelayMeta, RoomEvent, RoomMessageAck, RoomMessageEvent, RoomsAck, SeedRefusalAck,
} from './socket-answer-schemas.js';
import {
  ClientRoomEvent, DirectMessageRequest, GrantInRequest, HistoryRequest, JoinToken, NoPayload, RefreshRequest, RoomMessage, RoomRequest, RoomsRequest,
} from './socket-schemas.js';

/**
 * Every socket event, described once: for each event a client sends, the payload schema its handler
 * checks (socket-schemas.ts), its ack and the shape of its refusal; for each event the gateway sends,
 * its arguments. The AsyncAPI document (`/asyncapi.json`) is generated from this table for the events
 * the dispatcher serves (src/realtime/socket-events.ts), and fails to build for one it does not describe.
 */

/** An event a client sends. */
export interface ClientEventDescription {
  readonly summary: string;
  /** The payload's schema: what the handler validates. */
  readonly payload: TSchema;
  /** The ack's reply when the event succeeds. */
  readonly ack: TSchema;
  /** The ack's reply when it is refused (by the handler, or by the dispatcher's rate limit and permission checks). */
  readonly refusal: TSchema;
  /** Without an ack, a success is emitted as this event. */
  readonly replyEvent?: string;
  /** Without an ack, a refusal is emitted as this event. */
  readonly errorEvent?: string;
  /** A payload the handler accepts (test/openapi.test.ts sends each). */
  readonly example: unknown;
}

/** An event the gateway sends: its arguments, in order (Socket.IO events may carry several). */
export interface ServerEventDescription {
  readonly summary: string;
  readonly args: readonly TSchema[];
}

/** Seed 004's room events: `room/…`, or (prefix `''`) the un-prefixed aliases, which answer un-prefixed too. */
const aliasNote = (prefix: string, event: string) => (prefix === '' ? ` (alias of room/${event}, answered un-prefixed)` : '');
const joinRoom = (prefix: string): ClientEventDescription => ({
  summary: `Join a room; the socket also gets \`${prefix}joined-room\` { room }${aliasNote(prefix, 'join-room')}`,
  payload: RoomRequest, ack: JoinedRoomAck, refusal: SeedRefusalAck, example: 'chat:lobby',
});
const joinRooms = (prefix: string): ClientEventDescription => ({
  summary: `Join up to 100 rooms, each refusal in \`results\` (the others are joined), and \`${prefix}joined-room\` per room${aliasNote(prefix, 'join-rooms')}`,
  payload: RoomsRequest, ack: JoinedRoomsAck, refusal: SeedRefusalAck, example: ['chat:lobby', 'chat:random'],
});
const leaveRoom = (prefix: string): ClientEventDescription => ({
  summary: `Leave a room the socket is in; it also gets \`${prefix}left-room\` { room }${aliasNote(prefix, 'leave-room')}`,
  payload: RoomRequest, ack: LeftRoomAck, refusal: SeedRefusalAck, example: { room: 'chat:random' },
});

export const CLIENT_EVENT_CATALOG: Readonly<Record<string, ClientEventDescription>> = {
  'auth:refresh': {
    summary: 'Hand over a new token for the same user and session before the current one expires',
    payload: RefreshRequest, ack: RefreshedAck, refusal: ErrorAnswerSchema, replyEvent: 'auth:refreshed', errorEvent: 'auth:error', example: { token: 'eyJhbGciOi…' },
  },
  history: {
    summary: 'Read the history of a room the socket is in, after offset `since` of `epoch`',
    payload: HistoryRequest, ack: HistoryAnswer, refusal: ErrorAnswerSchema, example: { room: 'chat:lobby', since: 0 },
  },
  'room/join-room': joinRoom('room/'),
  'room/join-rooms': joinRooms('room/'),
  'room/leave-room': leaveRoom('room/'),
  'join-room': joinRoom(''),
  'join-rooms': joinRooms(''),
  'leave-room': leaveRoom(''),
  join: {
    summary: 'Join the channel of a signed join token (seed 001; `POST /v1/join-tokens` mints them)',
    payload: JoinToken, ack: ChannelAck, refusal: ErrorAnswerSchema, errorEvent: 'join:error', example: 'eyJjaGFubmVsIjoiY2hhdDpsb2JieSIs…',
  },
  leave: {
    summary: 'Leave a channel (seed 001); leaving one the socket is not in succeeds',
    payload: RoomRequest, ack: ChannelAck, refusal: ErrorAnswerSchema, errorEvent: 'leave:error', example: 'chat:random',
  },
  grantIn: {
    summary: 'Join the room of role `ROLE` (only with that role in the token) and the room `host` (seed 002)',
    payload: GrantInRequest, ack: GrantInAck, refusal: ErrorAnswerSchema, example: { ROLE: 'editor', host: 'chat:lobby' },
  },
  'single-chat/send-message': {
    summary: 'Send a direct message to every socket of user `to`, or to the one socket `target_socket_id` (seed 004)',
    payload: DirectMessageRequest, ack: DirectMessageAck, refusal: ErrorAnswerSchema, example: { to: 'bob', message: { text: 'hi Bob' } },
  },
  'room/send-message': {
    summary: 'Send a message to the other sockets of a room the socket is in (seed 004)',
    payload: RoomMessage, ack: RoomMessageAck, refusal: SeedRefusalAck, example: { room: 'chat:lobby', message: { text: 'hi all' } },
  },
  rooms: {
    summary: 'The rooms this socket is in: its own (user:, session:, role:) and the ones it joined',
    payload: NoPayload, ack: RoomsAck, refusal: ErrorAnswerSchema, example: null,
  },
  'room/members': {
    summary: 'The members (users) of a room the socket is in',
    payload: RoomRequest, ack: RoomMembersAnswer, refusal: ErrorAnswerSchema, example: 'chat:lobby',
  },
};

/** The events that answer `event` when it was sent without an ack (none: nothing is emitted). */
export function answerEventsOf(event: string): { readonly replyEvent?: string; readonly errorEvent?: string } {
  const { replyEvent, errorEvent } = CLIENT_EVENT_CATALOG[event] ?? {};
  return { ...(replyEvent === undefined ? {} : { replyEvent }), ...(errorEvent === undefined ? {} : { errorEvent }) };
}

/** A client event relayed to a room (CLIENT_EVENTS): its name is any name the configured patterns match. */
export const RELAYED_CLIENT_EVENT: ClientEventDescription = {
  summary: 'A client event (a name matching CLIENT_EVENTS) for the other sockets of a room the socket is in',
  payload: ClientRoomEvent, ack: RelayedAck, refusal: ErrorAnswerSchema, example: { room: 'chat:lobby', data: { typing: true } },
};

const refusalEvent = (what: string): ServerEventDescription => ({ summary: `${what} refused, when it was sent without an ack`, args: [ErrorAnswerSchema] });
const roomEvent = (summary: string): ServerEventDescription => ({ summary, args: [RoomEvent] });

/** The events the gateway itself sends (GATEWAY_EVENTS), by name. */
export const SERVER_EVENT_CATALOG: Readonly<Record<string, ServerEventDescription>> = {
  'auth:logout': { summary: 'The session was logged out (force-logout, a newer login, logout, password change, …); the socket is disconnected next', args: [LogoutEvent] },
  'auth:expired': { summary: 'The token expired: send auth:refresh within graceMs or be disconnected', args: [ExpiredEvent] },
  'auth:refreshed': { summary: 'auth:refresh succeeded, when it was sent without an ack', args: [RefreshedAck] },
  'auth:error': refusalEvent('auth:refresh'),
  'join:error': refusalEvent('join'),
  'leave:error': refusalEvent('leave'),
  'room/joined-room': roomEvent('This socket joined the room (room/join-room, room/join-rooms)'),
  'room/left-room': roomEvent('This socket left the room (room/leave-room)'),
  'joined-room': roomEvent('This socket joined the room (join-room, join-rooms)'),
  'left-room': roomEvent('This socket left the room (leave-room)'),
  'room/user-connected': { summary: 'A user\'s first socket joined a room this socket is in', args: [PresenceEvent] },
  'room/user-disconnected': { summary: 'A user\'s last socket left a room this socket is in (or dropped and did not come back within RECOVERY_WINDOW_MS)', args: [PresenceEvent] },
  // Chat messages are publications: their meta follows, as for any other.
  'room/receive-message': { summary: 'A room/send-message of another socket of the room, then { id, history? }', args: [RoomMessageEvent, DeliveryMeta] },
  'single-chat/receive-message': { summary: 'A direct message (single-chat/send-message), then { id, history? }', args: [DirectMessageEvent, DeliveryMeta] },
  [READY_EVENT]: { summary: 'The first event of a new connection while connection-state recovery is on: no data, only Socket.IO\'s recovery offset', args: [] },
};

/** Every publication (HTTP API, seed surfaces): the event name the publisher chose, its data, then its meta. */
export const PUBLICATION: ServerEventDescription = {
  summary: 'A publication: the event name and data the backend published (POST /v1/publish, …), then { id, history? }',
  args: [Type.Unknown({ description: 'The published data' }), DeliveryMeta],
};

/** A client event relayed to the room's other sockets. */
export const RELAYED_EVENT: ServerEventDescription = {
  summary: 'Another socket\'s client event (CLIENT_EVENTS) to a room this socket is in: its data, then { from, room }',
  args: [Type.Unknown({ description: 'The sender\'s data' }), RelayMeta],
};

/** A refused handshake: Socket.IO's `connect_error`, whose `err.data` is the catalog's error body. */
export const CONNECT_ERROR: ServerEventDescription = {
  summary: 'The handshake was refused for good (a transient refusal closes the connection instead, so the client retries): err.data',
  args: [ErrorBodySchema],
};
