/**
 * The names of the Redis stores' keys under REDIS_DATA_PREFIX, in one place, laid out for Redis Cluster:
 * what one command, transaction, pipeline or Lua script touches shares a hash tag (`{…}`: only that part
 * of the name chooses the slot), so it lands in one slot on every topology. Each tag starts with the kind
 * of data, so it is never empty (an empty tag would hash the whole name) and stays the same for every key
 * of one room, client or node even when an id itself holds a brace.
 *
 * - one room's history (`{history:room}:meta`, `…:messages`) and one room's membership counts
 *   (`{members:room}:…`): rooms spread over the slots;
 * - one registered client's hash and subscription set (`{client:id}`, `…:subscriptions`);
 * - presence (`{presence}:nodes`, `{presence}:node:id`) and the login throttle (`{login-failures}:…`): one
 *   slot each, because readers go over every node's entry and one login counts several keys at once;
 * - single keys (active sessions, a node's membership rooms, claims on dead nodes) need no tag.
 *
 * The adapter's stream and recovery sessions, and the HTTP rate limit's counters, are single keys named
 * by their own modules.
 */
export class RedisKeys {
  constructor(private readonly prefix: string) {}

  activeSession(userId: string): string {
    return `${this.prefix}active-session:${userId}`;
  }

  historyMeta(room: string): string {
    return `${this.prefix}{history:${room}}:meta`;
  }

  historyMessages(room: string): string {
    return `${this.prefix}{history:${room}}:messages`;
  }

  /**
   * What membership scripts build one room's per-node keys from (`{base}:users:{node}`,
   * `{base}:total:{node}`), beside {@link memberNodes}.
   */
  membersBase(room: string): string {
    return `${this.prefix}{members:${room}}`;
  }

  /** Hash of one node's users in `room` (user → sockets). */
  memberUsers(room: string, node: string): string {
    return `${this.membersBase(room)}:users:${node}`;
  }

  /** The nodes that have at least one socket in `room`. */
  memberNodes(room: string): string {
    return `${this.membersBase(room)}:nodes`;
  }

  /** The rooms `node` has counted members in (its clean-up list). */
  memberRooms(node: string): string {
    return `${this.prefix}members-rooms:${node}`;
  }

  /** A surviving node's claim on counting out dead `node`. */
  memberClaim(node: string): string {
    return `${this.prefix}members-claim:${node}`;
  }

  /** Sorted set of the nodes, scored by their last beat. */
  presenceNodes(): string {
    return `${this.prefix}{presence}:nodes`;
  }

  /** Hash of one node's sockets. */
  presenceNode(node: string): string {
    return `${this.prefix}{presence}:node:${node}`;
  }

  client(clientId: string): string {
    return `${this.prefix}{client:${clientId}}`;
  }

  clientSubscriptions(clientId: string): string {
    return `${this.prefix}{client:${clientId}}:subscriptions`;
  }

  loginFailures(key: string): string {
    return `${this.prefix}{login-failures}:${key}`;
  }
}
