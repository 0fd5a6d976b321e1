import type { RoomMember } from './presence.js';

/** What a join or leave changed, cluster-wide: drives presence events and webhooks. */
export interface MembershipChange {
  /** The user's first socket in the room joined (join), or their last one left (leave). */
  readonly userChanged: boolean;
  /** The room went from empty to one socket (join), or from one socket to empty (leave). */
  readonly roomChanged: boolean;
}

/** Users counted out of a room by a node that did not hold their sockets: the members a crashed node left behind. */
export interface Departure {
  readonly room: string;
  /** Users with no socket left in the room on any node (each one a `userChanged` leave). */
  readonly userIds: readonly string[];
  /** The room has no socket left on any node (a `roomChanged` leave). */
  readonly vacated: boolean;
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
  /**
   * Starts counting out the members of nodes that went away without leaving (crashed), once the time their
   * sockets had to come back passed, and hands `listener` each room's departures — on one node of the
   * cluster per dead node. Answers a function that stops it and waits for a round in progress. Stores whose
   * counts live and die with their node (memory, in-process) have nothing to count out and leave it out.
   */
  watchDepartures?(listener: (departure: Departure) => void): () => Promise<void>;
}
