import type { Logger } from 'pino';
import type { MembershipStore } from '../engine/engine.js';
import type { BackendWebhooks } from '../webhooks/backend-webhooks.js';
import { sessionRoom, userRoom, type GatewayServer, type GatewaySocket } from '../types/socket.js';

/**
 * Announces who is in a room, once per user: the room's other members get `room/user-connected`
 * `{ room, userId }` when a user's first socket joins and `room/user-disconnected` when their last socket
 * leaves (leaving, or disconnecting). Backends get the Pusher-style webhooks `member.added`,
 * `member.removed`, `room.occupied` and `room.vacated` when WEBHOOK_URL is set. Only rooms a socket joined
 * itself count, not its own `user:`/`session:` rooms.
 */
export class RoomPresence {
  /** Shared by every socket (Socket.IO calls it with `this` bound to the socket): no closure per connection. */
  private readonly onDisconnecting: (this: GatewaySocket) => void;

  constructor(
    private readonly io: GatewayServer,
    private readonly membership: MembershipStore,
    private readonly webhooks: BackendWebhooks | undefined,
    private readonly logger: Logger,
  ) {
    const presence = this;
    this.onDisconnecting = function (this: GatewaySocket): void {
      for (const room of joinedRooms(this)) {
        presence.left(this, room).catch((error: unknown) => presence.logger.warn({ err: error, room }, 'presence leave failed'));
      }
    };
  }

  /** Follows a socket's departure: on `disconnecting` (rooms still known) each joined room is left. */
  watch(socket: GatewaySocket): void {
    socket.on('disconnecting', this.onDisconnecting);
  }

  async joined(socket: GatewaySocket, room: string): Promise<void> {
    const { userId } = socket.data;
    const change = await this.membership.joined(room, userId);
    if (change.userChanged) {
      this.io.to(room).except(socket.id).emit('room/user-connected', { room, userId });
      this.webhooks?.notify('member.added', { room, userId });
    }
    if (change.roomChanged) this.webhooks?.notify('room.occupied', { room });
  }

  async left(socket: GatewaySocket, room: string): Promise<void> {
    const { userId } = socket.data;
    const change = await this.membership.left(room, userId);
    if (change.userChanged) {
      this.io.to(room).except(socket.id).emit('room/user-disconnected', { room, userId });
      this.webhooks?.notify('member.removed', { room, userId });
    }
    if (change.roomChanged) this.webhooks?.notify('room.vacated', { room });
  }
}

/** The rooms a socket joined itself: all but its id, user and session rooms. */
export function joinedRooms(socket: GatewaySocket): string[] {
  const { userId, sessionId } = socket.data;
  return [...socket.rooms].filter((room) => room !== socket.id && room !== userRoom(userId) && (sessionId === undefined || room !== sessionRoom(sessionId)));
}
