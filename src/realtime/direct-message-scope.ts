import { GatewayError } from '../protocol/errors.js';
import { joinedRooms } from '../protocol/own-rooms.js';
import type { GatewaySocket } from '../protocol/socket-types.js';
import type { FoundSocket } from './socket-lookup.js';

/**
 * DIRECT_MESSAGE_SCOPE, whom a socket may message with `single-chat/send-message`:
 * - `any`: any connected socket, and any user (seed 004's rule: it forwarded to whatever id it was given);
 * - `shared-room`: only a recipient that is in a room the sender joined itself — its own rooms (`user:`,
 *   `session:`, `role:`, its socket id) do not count, so two users who merely share a role are not
 *   introduced to each other. A user with several sockets qualifies when any of them shares such a room; a
 *   user with none connected cannot be checked and is refused.
 */
export type DirectMessageScope = 'any' | 'shared-room';

/** Refuses with `FORBIDDEN` (`details.scope`) a direct message `scope` does not allow from `sender` to these sockets of one recipient. */
export function assertMayMessage(scope: DirectMessageScope, sender: GatewaySocket, recipientSockets: readonly FoundSocket[]): void {
  if (scope === 'any') return;
  const rooms = joinedRooms(sender);
  if (recipientSockets.some((recipient) => rooms.some((room) => recipient.rooms.has(room)))) return;
  throw new GatewayError('FORBIDDEN', 'The recipient shares no room with this socket (DIRECT_MESSAGE_SCOPE=shared-room)', { details: { scope } });
}
