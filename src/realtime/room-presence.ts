import type { Logger } from 'pino';
import type { Departure, MembershipStore } from '../stores/membership.js';
import { GatewayError, isGatewayError } from '../protocol/errors.js';
import type { GatewaySocket, GatewayServer } from '../protocol/socket-types.js';
import type { BackendWebhooks } from '../webhooks/backend-webhooks.js';

/** Disconnect reasons Socket.IO can recover from (socket.io's RECOVERABLE_DISCONNECT_REASONS). */
const RECOVERABLE_REASONS: ReadonlySet<string> = new Set([
  'transport error', 'transport close', 'forced close', 'ping timeout', 'server shutting down', 'forced server close',
]);

/**
 * Joins and leaves rooms on behalf of sockets and announces who is in a room, once per user: the room's
 * other members get `room/user-connected` `{ room, userId }` when a user's first socket joins and
 * `room/user-disconnected` when their last socket leaves (leaving, or disconnecting for good: a dropped
 * connection counts once the recovery window passed, so a recovered blip announces nothing). Backends get
 * `member.added`, `member.removed`, `room.occupied`, `room.vacated` when WEBHOOK_URL is set. The members a
 * crashed node left behind are announced the same way, by the one node that counts them out (the store's
 * `watchDepartures`), once they had the recovery window to come back elsewhere.
 *
 * Each socket's *counted* rooms are tracked (a WeakMap, only for sockets that joined rooms): a room is
 * counted once the membership store took it, and exactly the counted rooms are counted out on
 * disconnect — so a disconnect racing a join, or a store failure, never leaves counts behind.
 */
export class RoomPresence {
  private readonly counted = new WeakMap<GatewaySocket, Set<string>>();
  /** The rooms of dropped sockets, counted out once the recovery window passed unless the socket comes back here. */
  private readonly pendingLeaves = new Map<string, { readonly timer: NodeJS.Timeout; readonly rooms: Set<string> }>();
  /** Shared by every socket (Socket.IO calls it with `this` bound to the socket): no closure per connection. */
  private readonly onDisconnecting: (this: GatewaySocket, reason: string) => void;
  private readonly stopWatchingDepartures: (() => Promise<void>) | undefined;

  constructor(
    private readonly io: GatewayServer,
    private readonly membership: MembershipStore,
    private readonly webhooks: BackendWebhooks | undefined,
    private readonly recoveryWindowMs: number,
    private readonly logger: Logger,
  ) {
    const presence = this;
    this.onDisconnecting = function (this: GatewaySocket, reason: string): void {
      const rooms = presence.counted.get(this);
      presence.counted.delete(this);
      if (rooms === undefined || rooms.size === 0) return;
      const { id } = this;
      const { userId } = this.data;
      const leaveAll = () => {
        for (const room of rooms) void presence.countOut(userId, id, room);
      };
      if (presence.recoveryWindowMs === 0 || !RECOVERABLE_REASONS.has(reason)) {
        leaveAll();
        return;
      }
      const timer = setTimeout(() => {
        presence.pendingLeaves.delete(id);
        leaveAll();
      }, presence.recoveryWindowMs).unref();
      presence.pendingLeaves.set(id, { timer, rooms });
    };
    this.stopWatchingDepartures = membership.watchDepartures?.((departure) => this.announceDeparture(departure));
  }

  /**
   * Follows a socket's departure. A socket recovered on the node it dropped from takes over the counts its
   * drop left pending (and counts out the rooms it has left since); recovered elsewhere, its restored rooms
   * are counted in again (the other node counts the drop out after the recovery window).
   */
  async watch(socket: GatewaySocket, restoredRooms: readonly string[]): Promise<void> {
    socket.on('disconnecting', this.onDisconnecting);
    const pending = this.pendingLeaves.get(socket.id);
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      this.pendingLeaves.delete(socket.id);
      const kept = new Set([...pending.rooms].filter((room) => socket.rooms.has(room)));
      this.counted.set(socket, kept);
      await Promise.all([...pending.rooms].filter((room) => !kept.has(room)).map((room) => this.countOut(socket.data.userId, socket.id, room)));
      restoredRooms = restoredRooms.filter((room) => !pending.rooms.has(room));
    }
    const results = await Promise.allSettled(restoredRooms.map((room) => this.countIn(socket, room)));
    for (const result of results) {
      if (result.status === 'rejected') this.logger.warn({ err: result.reason, socketId: socket.id }, 'presence of a recovered room not counted');
    }
  }

  /** Joins `room` and counts the socket in; on a store failure the join is undone (ENGINE_UNAVAILABLE). */
  async join(socket: GatewaySocket, room: string): Promise<void> {
    if (socket.rooms.has(room)) return;
    await socket.join(room);
    try {
      await this.countIn(socket, room);
    } catch (error) {
      await socket.leave(room);
      throw isGatewayError(error) ? error : new GatewayError('ENGINE_UNAVAILABLE', 'Room membership could not be recorded');
    }
  }

  /** Leaves `room` and counts the socket out. */
  async leave(socket: GatewaySocket, room: string): Promise<void> {
    if (!socket.rooms.has(room)) return;
    await socket.leave(room);
    if (this.counted.get(socket)?.delete(room) === true) await this.countOut(socket.data.userId, socket.id, room);
  }

  /**
   * Drops the leaves still waiting for the recovery window (the node is stopping; its counts go with it) and
   * stops counting out dead nodes, once a round in progress was announced. Call it before the webhook sender closes.
   */
  async close(): Promise<void> {
    for (const { timer } of this.pendingLeaves.values()) clearTimeout(timer);
    this.pendingLeaves.clear();
    await this.stopWatchingDepartures?.();
  }

  private async countIn(socket: GatewaySocket, room: string): Promise<void> {
    const { userId } = socket.data;
    const change = await this.membership.joined(room, userId);
    if (!socket.connected || !socket.rooms.has(room)) {
      // It disconnected (its disconnect counted out what it had) or left the room while being counted in: even this one out.
      await this.countOut(userId, socket.id, room);
      return;
    }
    let rooms = this.counted.get(socket);
    if (rooms === undefined) this.counted.set(socket, (rooms = new Set()));
    rooms.add(room);
    if (change.userChanged) {
      this.io.to(room).except(socket.id).emit('room/user-connected', { room, userId });
      this.webhooks?.notify('member.added', { room, userId });
    }
    if (change.roomChanged) this.webhooks?.notify('room.occupied', { room });
  }

  private async countOut(userId: string, socketId: string, room: string): Promise<void> {
    try {
      const change = await this.membership.left(room, userId);
      this.announceDeparture({ room, userIds: change.userChanged ? [userId] : [], vacated: change.roomChanged }, socketId);
    } catch (error) {
      this.logger.warn({ err: error, room }, 'presence leave not counted');
    }
  }

  /** `room/user-disconnected` to the room's sockets on every node (but the leaving one), and the webhooks. */
  private announceDeparture({ room, userIds, vacated }: Departure, leavingSocketId?: string): void {
    const others = leavingSocketId === undefined ? this.io.to(room) : this.io.to(room).except(leavingSocketId);
    for (const userId of userIds) {
      others.emit('room/user-disconnected', { room, userId });
      this.webhooks?.notify('member.removed', { room, userId });
    }
    if (vacated) this.webhooks?.notify('room.vacated', { room });
  }
}
