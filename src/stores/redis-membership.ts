import type { Redis } from 'ioredis';
import { GatewayError } from '../protocol/errors.js';
import type { MembershipChange, MembershipStore } from './membership.js';
import type { RoomMember } from './presence.js';

/**
 * Adds `delta` (+1 join, -1 leave) to this node's count of `user` in `room`, then sums the user's and the
 * room's counts over this node and every node that beat since `since` — atomically, so two tabs joining
 * on two nodes at once still make exactly one "first". Per node: hash `members:{room}:{node}` (user →
 * sockets), counter `members-total:{room}:{node}`, and set `members-rooms:{node}` for clean-up.
 * Returns {userSum, roomSum}, or {-1, -1} when a leave finds nothing to remove.
 */
const CHANGE_SCRIPT = `
local prefix, room, node, user, delta, since = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local mine = prefix .. 'members:' .. room .. ':' .. node
local mineTotal = prefix .. 'members-total:' .. room .. ':' .. node
if delta < 0 and tonumber(redis.call('HGET', mine, user) or '0') <= 0 then return {-1, -1} end
local own = redis.call('HINCRBY', mine, user, delta)
local ownTotal = redis.call('INCRBY', mineTotal, delta)
if own <= 0 then redis.call('HDEL', mine, user) end
if ownTotal <= 0 then redis.call('DEL', mineTotal) end
redis.call('SADD', prefix .. 'members-rooms:' .. node, room)
local userSum, roomSum = math.max(own, 0), math.max(ownTotal, 0)
for _, other in ipairs(redis.call('ZRANGEBYSCORE', prefix .. 'presence:nodes', since, '+inf')) do
  if other ~= node then
    userSum = userSum + tonumber(redis.call('HGET', prefix .. 'members:' .. room .. ':' .. other, user) or '0')
    roomSum = roomSum + tonumber(redis.call('GET', prefix .. 'members-total:' .. room .. ':' .. other) or '0')
  end
end
return {userSum, roomSum}
`;

/** Deletes every membership key of `node` (a node that stopped, or stopped beating). ARGV: prefix, node. */
export const FORGET_NODE_SCRIPT = `
local prefix, node = ARGV[1], ARGV[2]
local set = prefix .. 'members-rooms:' .. node
for _, room in ipairs(redis.call('SMEMBERS', set)) do
  redis.call('DEL', prefix .. 'members:' .. room .. ':' .. node, prefix .. 'members-total:' .. room .. ':' .. node)
end
redis.call('DEL', set)
return 0
`;

/**
 * Room membership counted in Redis per node, summed over the live nodes (see {@link CHANGE_SCRIPT}). A
 * crashed node's counts stop counting once it stops beating and are deleted by the presence clean-up;
 * its users' departures are not announced as events.
 */
export class RedisMembership implements MembershipStore {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
    private readonly nodeId: string,
    private readonly heartbeatMs: number,
  ) {}

  async joined(room: string, userId: string): Promise<MembershipChange> {
    const [userSum, roomSum] = await this.change(room, userId, 1);
    return { userChanged: userSum === 1, roomChanged: roomSum === 1 };
  }

  async left(room: string, userId: string): Promise<MembershipChange> {
    const [userSum, roomSum] = await this.change(room, userId, -1);
    if (userSum < 0) return { userChanged: false, roomChanged: false };
    return { userChanged: userSum === 0, roomChanged: roomSum === 0 };
  }

  async members(room: string): Promise<RoomMember[]> {
    return this.unavailableOnError(async () => {
      const nodes = new Set(await this.client.zrangebyscore(`${this.prefix}presence:nodes`, Date.now() - 2 * this.heartbeatMs, '+inf'));
      nodes.add(this.nodeId);
      const pipeline = this.client.pipeline();
      for (const node of nodes) pipeline.hgetall(`${this.prefix}members:${room}:${node}`);
      const counts = new Map<string, number>();
      for (const [error, hash] of (await pipeline.exec()) ?? []) {
        if (error !== null) throw error;
        for (const [userId, count] of Object.entries(hash as Record<string, string>)) counts.set(userId, (counts.get(userId) ?? 0) + Number(count));
      }
      return [...counts].filter(([, connections]) => connections > 0).map(([userId, connections]) => ({ userId, connections }));
    });
  }

  private async change(room: string, userId: string, delta: number): Promise<[number, number]> {
    const since = Date.now() - 2 * this.heartbeatMs;
    return this.unavailableOnError(async () =>
      (await this.client.eval(CHANGE_SCRIPT, 0, this.prefix, room, this.nodeId, userId, delta, since)) as [number, number]);
  }

  /** Redis away, timed out or failing: ENGINE_UNAVAILABLE (503 / ack), never an internal error. */
  private async unavailableOnError<T>(run: () => Promise<T>): Promise<T> {
    if (this.client.status !== 'ready') throw new GatewayError('ENGINE_UNAVAILABLE');
    try {
      return await run();
    } catch (error) {
      throw new GatewayError('ENGINE_UNAVAILABLE', `Room membership is unavailable (${error instanceof Error ? error.message : 'redis error'})`);
    }
  }
}
