import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { MembershipStore } from '../stores/membership.js';
import { GatewayError, isGatewayError } from '../protocol/errors.js';
import type { GatewayServer, GatewaySocket } from '../protocol/socket-types.js';
import { userRoom } from '../protocol/own-rooms.js';
import { resolveTarget } from '../protocol/publication.js';
import { readDirectMessage, readRoom, readRoomMessage, type DirectMessage, type SocketDirectMessage } from '../protocol/socket-schemas.js';
import type { Publisher } from './publisher.js';
import { acknowledgedListener, type AnswerEvents, type SocketListener } from './acknowledged-listener.js';
import { assertInRoom } from './assert-in-room.js';
import { assertMayMessage, type DirectMessageScope } from './direct-message-scope.js';
import { roomMessageReceived, sendMessageRefusal } from './room-answers.js';
import { findSocket, socketsIn } from './socket-lookup.js';

export interface ChatEventDeps {
  /** Finds recipients (users' sockets, socket ids) on any node. */
  readonly io: GatewayServer;
  readonly publisher: Publisher;
  readonly membership: MembershipStore;
  /** DIRECT_MESSAGE_SCOPE: whom a socket may message. */
  readonly directMessageScope: DirectMessageScope;
  readonly logger: Logger;
}

/**
 * Chat messages (seed 004) and the room member list. Every message goes through the {@link Publisher}, so it
 * reaches every node, is counted and kept in the target room's history:
 * - `single-chat/send-message` `{ to, message }` → every socket of user `to` gets
 *   `single-chat/receive-message` `{ id, from, message, ts }`; the ack is `{ id, delivered }`
 *   (`delivered: false` when the recipient has no socket — the message still lands in the recipient's
 *   `user:` room history, so it is not lost);
 * - `single-chat/send-message` `{ target_socket_id, message }` (the seed's own shape) → that socket gets
 *   `single-chat/receive-message` with the `message` itself; the ack is `{ message: 'message received', id,
 *   delivered: true }`, a socket connected nowhere is `NOT_FOUND`;
 * - `room/send-message` `{ room, message }` (a room the socket is in) → the room's other sockets get
 *   `room/receive-message` `{ room, message }`; the ack is seed 004's `{ status: true, message: 'message
 *   received', room }` plus `ok` and `id`;
 * - `room/members` (a room the socket is in) → `{ room, members: [{ userId, connections }] }`.
 * Direct messages are refused `FORBIDDEN` where DIRECT_MESSAGE_SCOPE does not allow them. Both sends are
 * publishes of the `socket` surface in the metrics, refusals included.
 */
export function createChatEventListeners(deps: ChatEventDeps): Record<string, SocketListener> {
  return {
    'single-chat/send-message': publishingListener(deps, async (socket, payload, receivedAt) => {
      const request = readDirectMessage(payload);
      return 'target_socket_id' in request ? messageSocket(socket, request, receivedAt, deps) : messageUser(socket, request, receivedAt, deps);
    }),
    'room/send-message': publishingListener(deps, async (socket, payload, receivedAt) => {
      const { room, message } = readRoomMessage(payload);
      assertInRoom(socket, room);
      const { id } = await deps.publisher.publish('socket', 'room/receive-message', { room, message }, resolveTarget({ rooms: [room], except: [socket.id] }), receivedAt);
      return roomMessageReceived(room, id);
    }, { seedRefusal: sendMessageRefusal }),
    'room/members': acknowledgedListener(deps.logger, async (socket, payload) => {
      const room = readRoom(payload);
      assertInRoom(socket, room);
      return { room, members: await deps.membership.members(room) };
    }),
  };
}

/** A chat event that publishes: `run` gets the event's arrival time, and a refusal also counts as a refused publish. */
function publishingListener(
  deps: ChatEventDeps,
  run: (socket: GatewaySocket, payload: unknown, receivedAt: number) => Promise<unknown>,
  events?: AnswerEvents,
): SocketListener {
  return acknowledgedListener(deps.logger, async (socket, payload) => {
    try {
      return await run(socket, payload, performance.now());
    } catch (error) {
      deps.publisher.refused('socket', isGatewayError(error) ? error.code : 'INTERNAL');
      throw error;
    }
  }, events);
}

async function messageUser(socket: GatewaySocket, { to, message }: DirectMessage, receivedAt: number, deps: ChatEventDeps) {
  const recipientSockets = await socketsIn(deps.io, userRoom(to));
  assertMayMessage(deps.directMessageScope, socket, recipientSockets);
  const id = randomUUID();
  const data = { id, from: socket.data.userId, message, ts: Date.now() };
  await deps.publisher.publish('socket', 'single-chat/receive-message', data, resolveTarget({ users: [to] }), receivedAt, id);
  return { id, delivered: recipientSockets.length > 0 };
}

async function messageSocket(socket: GatewaySocket, { target_socket_id: socketId, message }: SocketDirectMessage, receivedAt: number, deps: ChatEventDeps) {
  const recipient = await findSocket(deps.io, socketId);
  if (recipient === undefined) throw new GatewayError('NOT_FOUND', `No socket "${socketId}" is connected`, { details: { field: 'target_socket_id' } });
  assertMayMessage(deps.directMessageScope, socket, [recipient]);
  const { id } = await deps.publisher.publish('socket', 'single-chat/receive-message', message, resolveTarget({ rooms: [recipient.id] }), receivedAt);
  return { message: 'message received', id, delivered: true };
}
