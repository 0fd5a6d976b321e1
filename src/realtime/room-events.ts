import type { Logger } from 'pino';
import { GatewayError, isGatewayError } from '../protocol/errors.js';
import { acknowledgedListener, type SocketListener } from './acknowledged-listener.js';
import { assertInRoom } from './assert-in-room.js';
import { readGrantIn, readRoom, readRooms } from '../protocol/socket-schemas.js';
import { answerEventsOf } from '../protocol/event-catalog.js';
import { baseRooms, joinedRooms as roomsJoinedBy, roleRoom } from '../protocol/own-rooms.js';
import {
  joinedRoom, joinedRooms, joinRoomRefusal, joinRoomsRefusal, leaveRoomRefusal, leftRoom, type RoomJoinResult,
} from './room-answers.js';
import { verifyJoinToken } from '../rooms/join-token.js';
import type { JoinVia, RoomPolicy } from '../rooms/room-policy.js';
import type { WebhookSender } from '../webhooks/webhook-sender.js';
import type { RoomPresence } from './room-presence.js';
import type { GatewaySocket } from '../protocol/socket-types.js';

export interface RoomEventDeps {
  readonly policy: RoomPolicy;
  readonly roomPresence: RoomPresence;
  /** Checks join-token `data.webhook_url`s (scheme, allowed hosts) when the token is used. */
  readonly webhookSender: WebhookSender;
  /**
   * Production without WEBHOOK_ALLOWED_HOSTS: join tokens may not carry a `webhook_url` (it could point
   * the gateway at internal addresses).
   */
  readonly tokenWebhooksNeedAllowList: boolean;
  /** Keys join tokens may be signed with (the API keys). */
  readonly joinTokenKeys: readonly string[];
  readonly logger: Logger;
}

/**
 * `rooms` answers the rooms a socket is in: its own (`user:`, `session:`, `role:`) and the ones it joined.
 * The room events clients send, from seed 004 (`room/join-room`, `room/join-rooms`, `room/leave-room`,
 * and their un-prefixed aliases), seed 001 (`join` with a signed join token, `leave`) and seed 002
 * (`grantIn`, acked with the strings `'true'`/`'false'` as its server did). Every join goes
 * through the {@link RoomPolicy}; a refusal is an acknowledged error, never a disconnect. The joiner gets
 * `room/joined-room` / `room/left-room` `{ room }` (un-prefixed when it used an alias). Seed 004's events
 * are acked in its room service's shape and wording beside Switchboard's fields (`room-answers.ts`).
 */
export function createRoomEventListeners(deps: RoomEventDeps): Record<string, SocketListener> {
  const listeners: Record<string, SocketListener> = {};
  for (const prefix of ['room/', '']) {
    listeners[`${prefix}join-room`] = acknowledgedListener(deps.logger, async (socket, payload) => {
      const room = readRoom(payload);
      await join(socket, room, 'name', deps);
      socket.emit(`${prefix}joined-room`, { room });
      return joinedRoom(socket, room);
    }, { seedRefusal: joinRoomRefusal });
    listeners[`${prefix}join-rooms`] = acknowledgedListener(deps.logger, async (socket, payload) => {
      const rooms = readRooms(payload);
      const results: RoomJoinResult[] = [];
      for (const room of rooms) {
        try {
          await join(socket, room, 'name', deps);
          socket.emit(`${prefix}joined-room`, { room });
          results.push({ room, ok: true });
        } catch (error) {
          if (!isGatewayError(error)) throw error;
          results.push({ room, error: error.toBody() });
        }
      }
      return joinedRooms(socket, rooms, results);
    }, { seedRefusal: joinRoomsRefusal });
    listeners[`${prefix}leave-room`] = acknowledgedListener(deps.logger, async (socket, payload) => {
      const room = readRoom(payload);
      await leave(socket, room, deps, { mustBeIn: true });
      socket.emit(`${prefix}left-room`, { room });
      return leftRoom(room);
    }, { seedRefusal: leaveRoomRefusal });
  }
  // Which rooms this socket is in: the client SDK reads the history of its own rooms after a reconnect.
  listeners.rooms = acknowledgedListener(deps.logger, async (socket) => ({ own: baseRooms(socket.data), joined: roomsJoinedBy(socket) }));
  listeners.join = acknowledgedListener(deps.logger, async (socket, token) => {
    const grant = verifyJoinToken(token, deps.joinTokenKeys);
    const webhookUrl = webhookUrlOf(grant.data);
    if (webhookUrl !== undefined) {
      if (deps.tokenWebhooksNeedAllowList) {
        throw new GatewayError('WEBHOOK_URL_FORBIDDEN', 'Join-token webhook URLs need WEBHOOK_ALLOWED_HOSTS in production', { details: { field: 'webhook_url', reason: 'host' } });
      }
      deps.webhookSender.check(webhookUrl);
    }
    await join(socket, grant.channel, 'join-token', deps);
    if (webhookUrl !== undefined) socket.data.channelWebhooks = { ...socket.data.channelWebhooks, [grant.channel]: webhookUrl };
    return { ok: true, channel: grant.channel };
  }, answerEventsOf('join'));
  listeners.leave = acknowledgedListener(deps.logger, async (socket, payload) => {
    const channel = readRoom(payload);
    await leave(socket, channel, deps);
    return { ok: true, channel };
  }, answerEventsOf('leave'));
  listeners.grantIn = acknowledgedListener(deps.logger, async (socket, payload) => (await grantIn(socket, payload, deps)) ? 'true' : 'false');
  return listeners;
}

/**
 * Seed 002's `grantIn { ROLE, host }`: joins `role:{ROLE}` and the room `host`, each through the policy (so a
 * role room only when the token has the role: the socket is already in it). True when the socket is now in
 * every room it asked for; false for any refusal (the other room is still joined), a bad payload, or a
 * payload naming neither.
 */
async function grantIn(socket: GatewaySocket, payload: unknown, deps: RoomEventDeps): Promise<boolean> {
  const rooms = grantInRooms(payload);
  for (const room of rooms) {
    try {
      await join(socket, room, 'name', deps);
    } catch (error) {
      if (!isGatewayError(error)) throw error;
    }
  }
  return rooms.length > 0 && rooms.every((room) => socket.rooms.has(room));
}

/** The rooms a `grantIn` payload asks for: `role:{ROLE}` and `host`; none for a malformed payload. */
function grantInRooms(payload: unknown): string[] {
  try {
    const { ROLE, host } = readGrantIn(payload);
    return [...(ROLE === undefined ? [] : [roleRoom(ROLE)]), ...(host === undefined ? [] : [host])];
  } catch (error) {
    if (isGatewayError(error)) return [];
    throw error;
  }
}

async function join(socket: GatewaySocket, room: string, via: JoinVia, deps: RoomEventDeps): Promise<void> {
  if (!socket.connected) return; // gone mid-batch: nothing to join, nobody to answer
  deps.policy.assertMayJoin(socket, room, via);
  await deps.roomPresence.join(socket, room);
}

/** Leaves `room` if the policy lets the socket (never its own rooms); a room it is not in is left as it is, or refused with `mustBeIn` (seed 004). */
async function leave(socket: GatewaySocket, room: string, deps: RoomEventDeps, { mustBeIn = false } = {}): Promise<void> {
  deps.policy.assertMayLeave(socket, room);
  if (mustBeIn) assertInRoom(socket, room);
  await deps.roomPresence.leave(socket, room);
  if (socket.data.channelWebhooks?.[room] !== undefined) delete socket.data.channelWebhooks[room];
}

/** A join token's `data.webhook_url`, when it has one. */
function webhookUrlOf(data: unknown): string | undefined {
  const url = typeof data === 'object' && data !== null ? (data as { webhook_url?: unknown }).webhook_url : undefined;
  return typeof url === 'string' && url.length > 0 ? url : undefined;
}
