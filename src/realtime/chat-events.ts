import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { MembershipStore } from '../stores/membership.js';
import type { GatewayServer } from '../protocol/socket-types.js';
import { userRoom } from '../protocol/own-rooms.js';
import { resolveTarget } from '../protocol/publication.js';
import { readDirectMessage, readRoom } from '../protocol/socket-schemas.js';
import type { Publisher } from './publisher.js';
import { acknowledgedListener, type SocketEventHandler, type SocketListener } from './acknowledged-listener.js';
import { assertInRoom } from './assert-in-room.js';

export interface ChatEventDeps {
  /** Tells whether the recipient has a socket, on any node. */
  readonly io: GatewayServer;
  readonly publisher: Publisher;
  readonly membership: MembershipStore;
  readonly logger: Logger;
}

/**
 * Direct messages and room member list:
 * - `single-chat/send-message` `{ to, message }` → every socket of user `to`, on any node, gets
 *   `single-chat/receive-message` `{ id, from, message, ts }`; the sender's ack is `{ id, delivered }`
 *   (`delivered: false` when the recipient has no socket — the message still lands in the recipient's
 *   `user:` room history, so it is not lost);
 * - `room/members` (a room the socket is in) → `{ room, members: [{ userId, connections }] }`.
 */
export function createChatEventListeners(deps: ChatEventDeps): Record<string, SocketListener> {
  const handlers: Record<string, SocketEventHandler> = {
    'single-chat/send-message': async (socket, payload) => {
      const { to, message } = readDirectMessage(payload);
      const id = randomUUID();
      const delivered = (await deps.io.in(userRoom(to)).fetchSockets()).length > 0;
      const data = { id, from: socket.data.userId, message, ts: Date.now() };
      await deps.publisher.publish('single-chat/receive-message', data, resolveTarget({ users: [to] }), id);
      return { id, delivered };
    },
    'room/members': async (socket, payload) => {
      const room = readRoom(payload);
      assertInRoom(socket, room);
      return { room, members: await deps.membership.members(room) };
    },
  };
  return Object.fromEntries(Object.entries(handlers).map(([event, run]) => [event, acknowledgedListener(deps.logger, run)]));
}
