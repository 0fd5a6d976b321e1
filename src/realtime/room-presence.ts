import type { Logger } from 'pino';
import type { MembershipStore } from '../engine/engine.js';
import type { BackendWebhooks } from '../webhooks/backend-webhooks.js';
import { sessionRoom, userRoom, type GatewayServer, type GatewaySocket } from '../types/socket.js';

/**
 * Announces who is in a room, once per user: the room's other members get `room/user-connected`
 * `{ room, userId }` when a user's first socket joins and `room/user-disconnected` when their last socket
 * leaves (leaving, or disconnecting for good: a dropped connection counts once the recovery window passed). Backends get the Pusher-style webhooks `member.added`,
 * `member.removed`, `room.occupied` and `room.vacated` when WEBHOOK_URL is set. Only rooms a socket joined
 * itself count, not its own `user:`/`session:` rooms.
 */
export class RoomPresence {
  /** Shared by every socket (Socket.IO calls it with `this` bound to the socket): no closure per connection. */
  private readonly onDisconnecting: (this: GatewaySocket, reason: string) => void;
  private readonly pendingLeaves = new Set<NodeJS.Timeout>();

  /**
   * @param recoveryWindowMs - a socket that dropped in a way it can recover from is counted out only when
   *   this window has passed, so a recovered blip (on this node or another) announces nothing. A recovered
   *   socket is counted in again, and its pending leave later evens that out.
   */
  constructor(
    private readonly io: GatewayServer,
    private readonly membership: MembershipStore,
    private readonly webhooks: BackendWebhooks | undefined,
    private readonly recoveryWindowMs: number,
    private readonly logger: Logger,
  ) {
    const presence = this;
    this.onDisconnecting = function (this: GatewaySocket, reason: string): void {
      const rooms = joinedRooms(this);
      if (rooms.length === 0) return;
      const { id } = this;
      const { userId } = this.data;
      const leaveAll = () => {
        for (const room of rooms) {
          presence.left(userId, id, room).catch((error: unknown) => presence.logger.warn({ err: error, room }, 'presence leave failed'));
        }
      };
      if (presence.recoveryWindowMs === 0 || !RECOVERABLE_REASONS.has(reason)) {
        leaveAll();
        return;
      }
      const timer = setTimeout(() => {
        presence.pendingLeaves.delete(timer);
        leaveAll();
      }, presence.recoveryWindowMs).unref();
      presence.pendingLeaves.add(timer);
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

  async left(userId: string, socketId: string, room: string): Promise<void> {
    const change = await this.membership.left(room, userId);
    if (change.userChanged) {
      this.io.to(room).except(socketId).emit('room/user-disconnected', { room, userId });
      this.webhooks?.notify('member.removed', { room, userId });
    }
    if (change.roomChanged) this.webhooks?.notify('room.vacated', { room });
  }

  /** Drops the leaves still waiting for the recovery window (the node is stopping; its counts go with it). */
  close(): void {
    for (const timer of this.pendingLeaves) clearTimeout(timer);
    this.pendingLeaves.clear();
  }
}

/** Disconnect reasons Socket.IO can recover from (socket.io's RECOVERABLE_DISCONNECT_REASONS). */
const RECOVERABLE_REASONS: ReadonlySet<string> = new Set([
  'transport error', 'transport close', 'forced close', 'ping timeout', 'server shutting down', 'forced server close',
]);

/** The rooms a socket joined itself: all but its id, user and session rooms. */
export function joinedRooms(socket: GatewaySocket): string[] {
  const { userId, sessionId } = socket.data;
  return [...socket.rooms].filter((room) => room !== socket.id && room !== userRoom(userId) && (sessionId === undefined || room !== sessionRoom(sessionId)));
}
