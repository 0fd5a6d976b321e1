import { Type } from '@sinclair/typebox';
import { ErrorBodySchema } from './error-schema.js';

/**
 * What the gateway sends sockets, one schema each: the acks of the events they send, and the payloads of
 * the events it emits to them. The AsyncAPI document is generated from these (`event-catalog.ts`); the
 * shapes are built in src/realtime/ (`room-answers.ts` for seed 004's).
 */

/** Why a socket was logged out: `auth:logout` `{ reason }`. */
export const LOGOUT_REASONS = ['force-logout', 'session-replaced', 'logout', 'password-changed', 'user-disabled', 'refresh-token-reused', 'session-revoked'] as const;

const Room = Type.String();

// --- acks ---

/** `auth:refresh` succeeded (also emitted as `auth:refreshed` without an ack). */
export const RefreshedAck = Type.Object({ ok: Type.Literal(true), expiresAt: Type.Union([Type.Integer(), Type.Null()], { description: 'Unix milliseconds; null for a token without exp' }) });

/** `room/join-room`: seed 004's fields beside Switchboard's `ok`; `user` is the socket id. */
export const JoinedRoomAck = Type.Object({ ok: Type.Literal(true), status: Type.Literal(true), message: Type.String({ examples: ['Joined room: chat:lobby'] }), room: Room, user: Type.String() });

/** `room/join-rooms`: `status: false` (and the refused rooms in `message`) when any was refused; `results` says which. */
export const JoinedRoomsAck = Type.Object({
  status: Type.Boolean(),
  message: Type.String(),
  rooms: Type.Array(Room),
  user: Type.String(),
  results: Type.Array(Type.Union([Type.Object({ room: Room, ok: Type.Literal(true) }), Type.Object({ room: Room, error: ErrorBodySchema })])),
});

/** `room/leave-room`. */
export const LeftRoomAck = Type.Object({ ok: Type.Literal(true), status: Type.Literal(true), message: Type.String({ examples: ['User left room: chat:lobby'] }), room: Room });

/** `room/send-message`: seed 004's `{ status: true, message: 'message received', room }` plus `ok` and the message `id`. */
export const RoomMessageAck = Type.Object({ ok: Type.Literal(true), status: Type.Literal(true), message: Type.Literal('message received'), room: Room, id: Type.String() });

/** A refused seed 004 room event: its `status: false` and wording, what it echoed, and the catalog's `error`. */
export const SeedRefusalAck = Type.Object({
  status: Type.Literal(false),
  message: Type.String({ examples: ['Error joining room chat:lobby'] }),
  room: Type.Optional(Room),
  rooms: Type.Optional(Type.Array(Room)),
  error: ErrorBodySchema,
});

/** `rooms`: the rooms the socket is in. */
export const RoomsAck = Type.Object({
  own: Type.Array(Room, { description: 'The rooms the gateway put the socket in from its identity: user:{id}, session:{id}, role:{name}' }),
  joined: Type.Array(Room, { description: 'The rooms the socket joined itself' }),
});

/** `join` and `leave` (seed 001). */
export const ChannelAck = Type.Object({ ok: Type.Literal(true), channel: Room });

/** `grantIn` (seed 002): the strings its server acked with — every asked room joined, or not. */
export const GrantInAck = Type.Union([Type.Literal('true'), Type.Literal('false')]);

/** `single-chat/send-message`: to a user (`delivered: false` when they have no socket) or to one socket. */
export const DirectMessageAck = Type.Union([
  Type.Object({ id: Type.String(), delivered: Type.Boolean() }),
  Type.Object({ message: Type.Literal('message received'), id: Type.String(), delivered: Type.Literal(true) }),
]);

/** A client event relayed to its room (CLIENT_EVENTS). */
export const RelayedAck = Type.Object({ ok: Type.Literal(true) });

// --- events the gateway emits ---

export const LogoutEvent = Type.Object({ reason: Type.Union(LOGOUT_REASONS.map((reason) => Type.Literal(reason))) });
export const ExpiredEvent = Type.Object({ expiredAt: Type.Integer({ description: 'Unix milliseconds' }), graceMs: Type.Integer({ description: 'Disconnected this long after, unless auth:refresh comes first' }) });
export const RoomEvent = Type.Object({ room: Room });
export const PresenceEvent = Type.Object({ room: Room, userId: Type.String() });
export const RoomMessageEvent = Type.Object({ room: Room, message: Type.Unknown() });
export const DirectMessageEvent = Type.Union([
  Type.Object({ id: Type.String(), from: Type.String(), message: Type.Unknown(), ts: Type.Integer({ description: 'Unix milliseconds' }) }, { description: 'Sent with `to`: who sent what' }),
  Type.Unknown({ description: 'Sent with `target_socket_id` (seed 004\'s own shape): the message itself' }),
]);

/** The meta after the data of a publication: its id and its place in each targeted room's history. */
export const DeliveryMeta = Type.Object({
  id: Type.String(),
  history: Type.Optional(Type.Record(Type.String(), Type.Object({ epoch: Type.String(), offset: Type.Integer({ minimum: 1 }) }))),
});

/** The meta after the data of a relayed client event. */
export const RelayMeta = Type.Object({ from: Type.String({ description: 'The sender\'s user id' }), room: Room });
