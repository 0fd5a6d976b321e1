import type { MembershipChange, MembershipStore } from './membership.js';
import type { RoomMember } from './presence.js';
import type { RedisConnection } from './redis-connection.js';
import { LuaScript } from './redis-scripts.js';

/**
 * Adds `delta` (+1 join, -1 leave) to this node's count of `user` in `room`, then sums the user's and the
 * room's counts over this node and every node that beat since `since` — atomically, so two tabs joining
 * on two nodes at once still make exactly one "first". Per node: hash `members:{room}:{node}` (user →
 * sockets), counter `members-total:{room}:{node}`, and set `members-rooms:{node}` for clean-up.
 * Returns {userSum, roomSum}, or {-1, -1} when a leave finds nothing to remove.
 */
const CHANGE = new LuaScript<
  [],
  [prefix: string, room: string, node: string, user: string, delta: number, since: number],
  [userSum: number, roomSum: number]
>('switchboardMembershipChange', 0, `
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
`);

/**
 * Deletes every membership key of `node` (a node that stopped, or stopped beating). ARGV: prefix, node.
 * Run by the presence clean-up, in the same pipeline or transaction that drops the node's presence.
 */
export const FORGET_NODE = new LuaScript<[], [prefix: string, node: string], number>('switchboardForgetNode', 0, `
local prefix, node = ARGV[1], ARGV[2]
local set = prefix .. 'members-rooms:' .. node
for _, room in ipairs(redis.call('SMEMBERS', set)) do
  redis.call('DEL', prefix .. 'members:' .. room .. ':' .. node, prefix .. 'members-total:' .. room .. ':' .. node)
end
redis.call('DEL', set)
return 0
`);

const UNAVAILABLE = 'Room membership is unavailable';

/**
 * Room membership counted in Redis per node, summed over the live nodes (see {@link CHANGE}). A
 * crashed node's counts stop counting once it stops beating and are deleted by the presence clean-up;
 * its users' departures are not announced as events. While Redis is unreachable or failing every call
 * fails at once with ENGINE_UNAVAILABLE.
 */
export class RedisMembership implements MembershipStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
    private readonly nodeId: string,
    private readonly heartbeatMs: number,
  ) {
    connection.registerScripts(CHANGE);
  }

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
    return this.connection.run(UNAVAILABLE, async (client) => {
      const nodes = new Set(await client.zrangebyscore(`${this.prefix}presence:nodes`, Date.now() - 2 * this.heartbeatMs, '+inf'));
      nodes.add(this.nodeId);
      const pipeline = client.pipeline();
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
    return this.connection.run(UNAVAILABLE, (client) => CHANGE.run(client, [], [this.prefix, room, this.nodeId, userId, delta, since]));
  }
}
