import type { RoomMember } from './presence.js';

/** What a join or leave changed, cluster-wide: drives presence events and webhooks. */
export interface MembershipChange {
  /** The user's first socket in the room joined (join), or their last one left (leave). */
  readonly userChanged: boolean;
  /** The room went from empty to one socket (join), or from one socket to empty (leave). */
  readonly roomChanged: boolean;
}

/**
 * Counts, per room, each user's sockets across every node, so that presence events fire once per user
 * (a user with three tabs is one member) and room occupied/vacated once per room. Only rooms sockets
 * joined themselves are counted, not their own `user:`/`session:` rooms.
 */
export interface MembershipStore {
  joined(room: string, userId: string): Promise<MembershipChange>;
  left(room: string, userId: string): Promise<MembershipChange>;
  /** The room's members with their socket counts (cheap: reads the counts, not every socket). */
  members(room: string): Promise<RoomMember[]>;
}
