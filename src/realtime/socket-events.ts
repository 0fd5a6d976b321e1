import type { Logger } from 'pino';
import type { AuthStrategy } from '../auth/auth-strategy.js';
import { stripBearer } from '../auth/extract-token.js';
import { hasPermission } from '../auth/permissions.js';
import type { RoomPattern } from '../protocol/room-pattern.js';
import type { HistoryPage, HistoryStore } from '../stores/history.js';
import { GatewayError } from '../protocol/errors.js';
import { chatHandlers, type ChatEventDeps } from './chat-events.js';
import { isClientRoomEvent, relayClientEvent, type ClientRoomEventDeps } from './client-room-events.js';
import type { ClientRateLimiter } from './client-rate-limit.js';
import { acknowledgedListener, type SocketListener } from './acknowledged-listener.js';
import { createRoomEventListeners, type RoomEventDeps } from './room-events.js';
import type { TokenExpiryWatch } from './token-expiry.js';
import type { GatewaySocket } from '../protocol/socket-types.js';

/** An acknowledgement callback as Socket.IO passes it: the last argument, when the client asked for one. */
type Ack = (reply: unknown) => void;

export interface SocketEventDeps extends RoomEventDeps, ChatEventDeps, ClientRoomEventDeps {
  readonly strategy: AuthStrategy;
  readonly expiry: TokenExpiryWatch;
  /** Room history, `undefined` when off. */
  readonly history: HistoryStore | undefined;
  readonly limiter: ClientRateLimiter;
  /** EVENT_PERMISSIONS: events (patterns) a socket may only send holding the permission. */
  readonly eventPermissions: readonly EventPermissionRule[];
  readonly logger: Logger;
}

/** One EVENT_PERMISSIONS entry, its pattern compiled. */
export interface EventPermissionRule {
  readonly event: RoomPattern;
  readonly permission: string;
}

/**
 * The dispatcher of every event a socket sends: `auth:refresh`, `history`, the room events (room-events.ts),
 * the chat events (chat-events.ts) and, for names matching CLIENT_EVENTS, the client events relayed to a
 * room (client-room-events.ts). One listener (`onAny`, shared by every socket: Socket.IO calls it with
 * `this` bound to the socket) rate-limits every event, checks EVENT_PERMISSIONS, then runs its handler; an
 * unknown event with an ack is answered `EVENT_UNKNOWN` (never a silent success), without an ack it is ignored.
 */
export function createSocketEventListeners(deps: SocketEventDeps): (socket: GatewaySocket) => void {
  const chat = Object.entries(chatHandlers(deps)).map(([event, run]) => [event, acknowledgedListener(deps.logger, run)] as const);
  const listeners: Record<string, SocketListener> = {
    'auth:refresh': acknowledgedListener(deps.logger, (socket, payload) => refreshToken(socket, payload, deps), { replyEvent: 'auth:refreshed', errorEvent: 'auth:error' }),
    history: acknowledgedListener(deps.logger, (socket, payload) => readHistory(socket, payload, deps)),
    ...createRoomEventListeners(deps),
    ...Object.fromEntries(chat),
  };
  function dispatch(this: GatewaySocket, event: string, ...args: unknown[]): void {
    const ack = typeof args.at(-1) === 'function' ? (args.at(-1) as Ack) : undefined;
    const verdict = deps.limiter.take(this);
    if (verdict === 'flooding') {
      deps.logger.warn({ socketId: this.id, userId: this.data.userId }, 'client flooding; disconnected');
      this.disconnect(true);
      return;
    }
    if (verdict === 'refused') {
      ack?.({ error: new GatewayError('RATE_LIMITED', 'Too many events; slow down (CLIENT_EVENTS_PER_SECOND)').toBody() });
      return;
    }
    const needed = deps.eventPermissions.find((rule) => rule.event.matches(event));
    if (needed !== undefined && !hasPermission(this.data, needed.permission)) {
      ack?.({ error: new GatewayError('FORBIDDEN', `"${event}" needs the "${needed.permission}" permission`, { details: { permission: needed.permission } }).toBody() });
      return;
    }
    const listener = Object.hasOwn(listeners, event) ? listeners[event] : undefined;
    if (listener !== undefined) listener.apply(this, args);
    else if (isClientRoomEvent(deps, event)) acknowledgedListener(deps.logger, async (socket, payload) => relayClientEvent(socket, event, payload, deps)).apply(this, args);
    else ack?.({ error: new GatewayError('EVENT_UNKNOWN', `The server does not handle "${event}"`).toBody() });
  }
  return (socket) => socket.onAny(dispatch);
}

/**
 * `auth:refresh` with a new token (a string, or `{ token }`) for the same user and session: re-checks it
 * with the active strategy and moves the socket's expiry. Answers `{ ok: true, expiresAt }`.
 */
async function refreshToken(socket: GatewaySocket, payload: unknown, deps: SocketEventDeps): Promise<{ ok: true; expiresAt: number | null }> {
  const raw = typeof payload === 'string' ? payload : isTokenObject(payload) ? payload.token : undefined;
  if (raw === undefined || raw.length === 0) throw new GatewayError('TOKEN_MISSING', 'auth:refresh needs a token: emit("auth:refresh", token) or { token }');
  const identity = await deps.strategy.authenticate({ token: stripBearer(raw) });
  const { userId, sessionId } = socket.data;
  if (identity.userId !== userId || identity.sessionId !== sessionId) {
    throw new GatewayError('IDENTITY_MISMATCH');
  }
  deps.expiry.update(socket, identity.expiresAt);
  socket.data.rooms = identity.rooms;
  socket.data.permissions = identity.permissions;
  return { ok: true, expiresAt: identity.expiresAt ?? null };
}

/**
 * `history` `{ room, since?, epoch? }` (ack): the room's messages after `since`, as `GET
 * /v1/rooms/{room}/history` answers them. Only for rooms the socket is in.
 */
async function readHistory(socket: GatewaySocket, payload: unknown, deps: SocketEventDeps): Promise<HistoryPage> {
  if (deps.history === undefined) throw new GatewayError('NOT_FOUND', 'Room history is off (HISTORY_SIZE=0)');
  const request = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
  const { room, since, epoch } = request;
  if (typeof room !== 'string' || room.length === 0) throw new GatewayError('INVALID_BODY', 'history needs { room }', { details: { field: 'room' } });
  if (since !== undefined && !(Number.isSafeInteger(since) && (since as number) >= 0)) {
    throw new GatewayError('INVALID_BODY', 'since must be a whole number', { details: { field: 'since' } });
  }
  if (epoch !== undefined && typeof epoch !== 'string') throw new GatewayError('INVALID_BODY', 'epoch must be a string', { details: { field: 'epoch' } });
  if (!socket.rooms.has(room)) throw new GatewayError('ROOM_FORBIDDEN', `This socket is not in "${room}"`);
  return deps.history.read(room, since as number | undefined, epoch);
}

function isTokenObject(value: unknown): value is { token: string } {
  return typeof value === 'object' && value !== null && typeof (value as { token?: unknown }).token === 'string';
}
