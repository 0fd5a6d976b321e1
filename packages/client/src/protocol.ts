/**
 * The gateway's wire shapes, as the SDK reads them. They mirror the server's TypeBox schemas
 * (src/protocol/answer-schemas.ts, socket-answer-schemas.ts, error-schema.ts); test/client-sdk-types.ts
 * checks, at compile time, that each one and the server's `Static<…>` type are the same type, so an
 * answer's type here is the one the server builds and validates.
 */

/** Where a published message sits in one room's history. */
export interface HistoryPlace { epoch: string; offset: number }

/** The argument after a publication's data: its id and its place in each targeted room's history. */
export interface DeliveryMeta { id: string; history?: Record<string, HistoryPlace> }

/** One message of a `history` answer. */
export interface HistoryMessage { offset: number; id: string; event: string; data: unknown; ts: number }

/** The `history` ack: `recovered: false` when the messages after `since` are no longer all there. */
export interface HistoryAnswer { room: string; epoch: string | null; offset: number; recovered: boolean; messages: HistoryMessage[] }

/** The `room/members` ack: a room's users, each with how many of their sockets are in it (cluster-wide). */
export interface RoomMembersAnswer { room: string; members: { userId: string; connections: number }[] }

/** The `single-chat/send-message` ack: the message id and whether any socket of the user was online. */
export type DirectMessageAck = { id: string; delivered: boolean } | { message: 'message received'; id: string; delivered: true };

/** The `rooms` ack: the socket's own rooms (user:, session:, role:) and the ones it joined. */
export interface RoomsAck { own: string[]; joined: string[] }

/** The `join` ack (seed 001 join tokens). */
export interface ChannelAck { ok: true; channel: string }

/** The ack of a relayed client event (CLIENT_EVENTS). */
export interface RelayedAck { ok: true }

/** The argument after a relayed client event's data: who sent it, to which room. */
export interface RelayMeta { from: string; room: string }

/** The `auth:refresh` ack. */
export interface RefreshedAck { ok: true; expiresAt: number | null }

/** Why a session was logged out (`auth:logout`). */
export type LogoutReason = 'force-logout' | 'session-replaced' | 'logout' | 'password-changed' | 'user-disabled' | 'refresh-token-reused' | 'session-revoked';
export interface LogoutEvent { reason: LogoutReason }

/** The catalog's error body: an ack's `error`, `connect_error`'s `data`. `retryAfterS` only on transient refusals. */
export interface ErrorBody { code: string; message: string; retryAfterS?: number; details?: Record<string, unknown> }
