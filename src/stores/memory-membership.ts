import type { MembershipChange, MembershipStore } from './membership.js';
import type { RoomMember } from './presence.js';

/** Room membership counts in this process (one node). */
export class MemoryMembership implements MembershipStore {
  private readonly rooms = new Map<string, Map<string, number>>();

  async joined(room: string, userId: string): Promise<MembershipChange> {
    let users = this.rooms.get(room);
    const roomChanged = users === undefined;
    if (users === undefined) this.rooms.set(room, (users = new Map()));
    const count = (users.get(userId) ?? 0) + 1;
    users.set(userId, count);
    return { userChanged: count === 1, roomChanged };
  }

  async members(room: string): Promise<RoomMember[]> {
    return [...(this.rooms.get(room) ?? [])].map(([userId, connections]) => ({ userId, connections }));
  }

  async left(room: string, userId: string): Promise<MembershipChange> {
    const users = this.rooms.get(room);
    const count = users?.get(userId);
    if (users === undefined || count === undefined) return { userChanged: false, roomChanged: false };
    if (count > 1) {
      users.set(userId, count - 1);
      return { userChanged: false, roomChanged: false };
    }
    users.delete(userId);
    if (users.size > 0) return { userChanged: true, roomChanged: false };
    this.rooms.delete(room);
    return { userChanged: true, roomChanged: true };
  }
}
