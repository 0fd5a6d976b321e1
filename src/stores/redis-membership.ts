import type { Logger } from 'pino';
import type { Departure, MembershipChange, MembershipStore } from './membership.js';
import type { RoomMember } from './presence.js';
import type { RedisConnection } from './redis-connection.js';
import { LuaScript } from './redis-scripts.js';

/**
 * Adds `delta` (+1 join, -1 leave) to this node's count of `user` in `room`, then sums the user's and the
 * room's counts over this node and every other node in `presence:nodes` (the live ones, and a dead one
 * until its members are counted out by {@link COUNT_OUT_ROOM}) — atomically, so two tabs joining on two
 * nodes at once still make exactly one "first". Per node: hash `members:{room}:{node}` (user → sockets),
 * counter `members-total:{room}:{node}`, and set `members-rooms:{node}` for clean-up.
 * Returns {userSum, roomSum}, or {-1, -1} when a leave finds nothing to remove.
 */
const CHANGE = new LuaScript<
  [],
  [prefix: string, room: string, node: string, user: string, delta: number],
  [userSum: number, roomSum: number]
>('switchboardMembershipChange', 0, `
local prefix, room, node, user, delta = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local mine = prefix .. 'members:' .. room .. ':' .. node
local mineTotal = prefix .. 'members-total:' .. room .. ':' .. node
if delta < 0 and tonumber(redis.call('HGET', mine, user) or '0') <= 0 then return {-1, -1} end
local own = redis.call('HINCRBY', mine, user, delta)
local ownTotal = redis.call('INCRBY', mineTotal, delta)
if own <= 0 then redis.call('HDEL', mine, user) end
if ownTotal <= 0 then redis.call('DEL', mineTotal) end
redis.call('SADD', prefix .. 'members-rooms:' .. node, room)
local userSum, roomSum = math.max(own, 0), math.max(ownTotal, 0)
for _, other in ipairs(redis.call('ZRANGE', prefix .. 'presence:nodes', 0, -1)) do
  if other ~= node then
    userSum = userSum + tonumber(redis.call('HGET', prefix .. 'members:' .. room .. ':' .. other, user) or '0')
    roomSum = roomSum + tonumber(redis.call('GET', prefix .. 'members-total:' .. room .. ':' .. other) or '0')
  end
end
return {userSum, roomSum}
`);

/**
 * Counts out every socket a dead `node` had in `room` and answers what that changed cluster-wide, like a
 * leave of each of them would in {@link CHANGE}: `{vacated, user…}` — 1 when the room has no socket left
 * on any other node in `presence:nodes`, then the users who have none left. Empty when the node had
 * nobody in the room (already counted out). ARGV: prefix, node, room.
 */
const COUNT_OUT_ROOM = new LuaScript<[], [prefix: string, node: string, room: string], (number | string)[]>('switchboardMembershipCountOutRoom', 0, `
local prefix, node, room = ARGV[1], ARGV[2], ARGV[3]
local mine = prefix .. 'members:' .. room .. ':' .. node
local mineTotal = prefix .. 'members-total:' .. room .. ':' .. node
local users = redis.call('HKEYS', mine)
local had = tonumber(redis.call('GET', mineTotal) or '0')
redis.call('DEL', mine, mineTotal)
redis.call('SREM', prefix .. 'members-rooms:' .. node, room)
if had <= 0 then return {} end
local others = {}
for _, other in ipairs(redis.call('ZRANGE', prefix .. 'presence:nodes', 0, -1)) do
  if other ~= node then others[#others + 1] = other end
end
local roomSum = 0
for _, other in ipairs(others) do
  roomSum = roomSum + tonumber(redis.call('GET', prefix .. 'members-total:' .. room .. ':' .. other) or '0')
end
local out = {roomSum == 0 and 1 or 0}
for _, user in ipairs(users) do
  local userSum = 0
  if roomSum > 0 then
    for _, other in ipairs(others) do
      userSum = userSum + tonumber(redis.call('HGET', prefix .. 'members:' .. room .. ':' .. other, user) or '0')
    end
  end
  if userSum == 0 then out[#out + 1] = user end
end
return out
`);

/**
 * Deletes every membership key of `node` (a node that stopped, or whose members were counted out). ARGV:
 * prefix, node. Run in the same pipeline or transaction that drops the node from `presence:nodes`.
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

/** How long a node's claim on a dead node holds, in heartbeats: past it (the claimer died too) another node takes over. */
const CLAIM_TTL_HEARTBEATS = 5;

/**
 * Room membership counted in Redis per node, summed over the nodes in `presence:nodes` (see {@link CHANGE}).
 * A node that stops without leaving (crash, SIGKILL) stays counted, like a dropped socket on a live node,
 * until it has been silent for twice the heartbeat plus the recovery window — the time its sockets had to
 * come back elsewhere; then one surviving node claims it (`members-claim:{node}`, SET NX) and counts its
 * members out room by room ({@link COUNT_OUT_ROOM}), handing the departures to the watcher (see
 * {@link watchDepartures}). While Redis is unreachable or failing every call fails at once with
 * ENGINE_UNAVAILABLE.
 */
export class RedisMembership implements MembershipStore {
  private readonly nodesKey: string;

  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
    private readonly nodeId: string,
    private readonly timing: { readonly heartbeatMs: number; readonly recoveryWindowMs: number },
    private readonly logger: Logger,
  ) {
    this.nodesKey = `${prefix}presence:nodes`;
    connection.registerScripts(CHANGE, COUNT_OUT_ROOM, FORGET_NODE);
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
      const nodes = new Set(await client.zrange(this.nodesKey, '0', '-1'));
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

  /**
   * Looks for dead nodes every heartbeat. Every node looks; the claim makes one of them count out each dead
   * node, and each room is counted out atomically, so a claim that expires mid-way (its node died too) is
   * finished by another node without announcing anyone twice.
   */
  watchDepartures(listener: (departure: Departure) => void): () => Promise<void> {
    let round: Promise<void> | undefined;
    const timer = setInterval(() => {
      round ??= this.countOutDeadNodes(listener)
        .catch((error: unknown) => this.logger.warn({ err: error }, 'dead nodes not counted out; trying again'))
        .finally(() => (round = undefined));
    }, this.timing.heartbeatMs).unref();
    return async () => {
      clearInterval(timer);
      await round;
    };
  }

  private async countOutDeadNodes(listener: (departure: Departure) => void): Promise<void> {
    if (!this.connection.isReady()) return;
    const { client } = this.connection;
    const { heartbeatMs, recoveryWindowMs } = this.timing;
    const dead = await client.zrangebyscore(this.nodesKey, '-inf', `(${Date.now() - 2 * heartbeatMs - recoveryWindowMs}`);
    for (const node of dead) {
      // Never itself: its own entry is old only while it could not beat (Redis unreachable), and it is back.
      if (node === this.nodeId) continue;
      const claimKey = `${this.prefix}members-claim:${node}`;
      if (await client.set(claimKey, this.nodeId, 'PX', CLAIM_TTL_HEARTBEATS * heartbeatMs, 'NX') === null) continue;
      const rooms = await client.smembers(`${this.prefix}members-rooms:${node}`);
      const pipeline = client.pipeline();
      for (const room of rooms) COUNT_OUT_ROOM.queue(pipeline, [], [this.prefix, node, room]);
      FORGET_NODE.queue(pipeline.zrem(this.nodesKey, node).del(`${this.prefix}presence:node:${node}`), [], [this.prefix, node]).del(claimKey);
      const replies = (await pipeline.exec()) ?? [];
      let departedUsers = 0;
      for (const [index, room] of rooms.entries()) {
        const [error, reply] = replies[index] ?? [null, []];
        const [vacated, ...userIds] = error === null ? (reply as (number | string)[]) : [];
        if (error !== null) this.logger.warn({ err: error, room }, 'room members of a dead node not counted out');
        if (vacated === undefined) continue;
        departedUsers += userIds.length;
        listener({ room, userIds: userIds.map(String), vacated: vacated === 1 });
      }
      this.logger.info({ deadNode: node, rooms: rooms.length, departedUsers }, 'counted out the room members of a node that stopped beating');
    }
  }

  private async change(room: string, userId: string, delta: number): Promise<[number, number]> {
    return this.connection.run(UNAVAILABLE, (client) => CHANGE.run(client, [], [this.prefix, room, this.nodeId, userId, delta]));
  }
}
