import type { MembershipChange, MembershipStore } from './membership.js';
import type { RoomMember } from './presence.js';

/**
 * One node's access to a membership store that several nodes share in one process (an in-process
 * cluster). It remembers what this node counted in, so that a stopping node can {@link withdraw} its
 * counts — as the Redis store forgets a node at its graceful stop — without announcing its users'
 * departures. A leave this node never counted in changes nothing.
 */
export class NodeMembership implements MembershipStore {
  /** Per room and user (keyed by {@link ownKey}), this node's sockets counted in. */
  private readonly own = new Map<string, { readonly room: string; readonly userId: string; count: number }>();

  constructor(private readonly shared: MembershipStore) {}

  async joined(room: string, userId: string): Promise<MembershipChange> {
    const key = ownKey(room, userId);
    const entry = this.own.get(key);
    if (entry === undefined) this.own.set(key, { room, userId, count: 1 });
    else entry.count += 1;
    return this.shared.joined(room, userId);
  }

  async left(room: string, userId: string): Promise<MembershipChange> {
    const key = ownKey(room, userId);
    const entry = this.own.get(key);
    if (entry === undefined) return { userChanged: false, roomChanged: false };
    entry.count -= 1;
    if (entry.count === 0) this.own.delete(key);
    return this.shared.left(room, userId);
  }

  members(room: string): Promise<RoomMember[]> {
    return this.shared.members(room);
  }

  /** Counts out, silently, every socket this node still has counted in. */
  async withdraw(): Promise<void> {
    const own = [...this.own.values()];
    this.own.clear();
    for (const { room, userId, count } of own) {
      for (let i = 0; i < count; i += 1) await this.shared.left(room, userId);
    }
  }
}

function ownKey(room: string, userId: string): string {
  return JSON.stringify([room, userId]);
}
