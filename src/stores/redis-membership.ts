import type { Logger } from 'pino';
import type { Departure, MembershipChange, MembershipStore } from './membership.js';
import type { RoomMember } from './presence.js';
import type { RedisConnection } from './redis-connection.js';
import { RedisKeys } from './redis-keys.js';
import { LuaScript } from './redis-scripts.js';

/**
 * Adds `delta` (+1 join, -1 leave) to this node's count of `user` in `room`, then sums the user's and the
 * room's counts over every node that has sockets in the room (a dead node stays among them until its
 * members are counted out by {@link COUNT_OUT_ROOM}) — atomically, so two tabs joining on two nodes at once
 * still make exactly one "first". Keys (one room's, one slot — see RedisKeys): per node a hash
 * `{base}:users:{node}` (user → sockets) and a counter `{base}:total:{node}`, and the set of nodes with a
 * count, KEYS[1]. Returns {userSum, roomSum}, or {-1, -1} when a leave finds nothing to remove.
 */
const CHANGE = new LuaScript<
  [nodesKey: string],
  [base: string, node: string, user: string, delta: number],
  [userSum: number, roomSum: number]
>('switchboardMembershipChange', 1, `
local base, node, user, delta = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local mine = base .. ':users:' .. node
local mineTotal = base .. ':total:' .. node
if delta < 0 and tonumber(redis.call('HGET', mine, user) or '0') <= 0 then return {-1, -1} end
local own = redis.call('HINCRBY', mine, user, delta)
local ownTotal = redis.call('INCRBY', mineTotal, delta)
if own <= 0 then redis.call('HDEL', mine, user) end
if ownTotal <= 0 then
  redis.call('DEL', mineTotal)
  redis.call('SREM', KEYS[1], node)
else
  redis.call('SADD', KEYS[1], node)
end
local userSum, roomSum = math.max(own, 0), math.max(ownTotal, 0)
for _, other in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if other ~= node then
    userSum = userSum + tonumber(redis.call('HGET', base .. ':users:' .. other, user) or '0')
    roomSum = roomSum + tonumber(redis.call('GET', base .. ':total:' .. other) or '0')
  end
end
return {userSum, roomSum}
`);

/**
 * Counts out every socket `node` had in one room (a dead node, or one that stops) and answers what that
 * changed, like a leave of each of them would in {@link CHANGE}: `{vacated, user…}` — 1 when the room has
 * no socket left on any other node, then the users who have none left. Empty when the node had nobody in
 * the room (already counted out). KEYS[1]: the room's node set. ARGV: the room's key base, node.
 */
const COUNT_OUT_ROOM = new LuaScript<[nodesKey: string], [base: string, node: string], (number | string)[]>('switchboardMembershipCountOutRoom', 1, `
local base, node = ARGV[1], ARGV[2]
local mine = base .. ':users:' .. node
local mineTotal = base .. ':total:' .. node
local users = redis.call('HKEYS', mine)
local had = tonumber(redis.call('GET', mineTotal) or '0')
redis.call('DEL', mine, mineTotal)
redis.call('SREM', KEYS[1], node)
if had <= 0 then return {} end
local others = redis.call('SMEMBERS', KEYS[1])
local roomSum = 0
for _, other in ipairs(others) do
  roomSum = roomSum + tonumber(redis.call('GET', base .. ':total:' .. other) or '0')
end
local out = {roomSum == 0 and 1 or 0}
for _, user in ipairs(users) do
  local userSum = 0
  if roomSum > 0 then
    for _, other in ipairs(others) do
      userSum = userSum + tonumber(redis.call('HGET', base .. ':users:' .. other, user) or '0')
    end
  end
  if userSum == 0 then out[#out + 1] = user end
end
return out
`);

/** What counting out a node's room answers: the departures, or why that room failed. */
type CountedOut = { readonly room: string; readonly reply: (number | string)[] } | { readonly room: string; readonly error: unknown };

/**
 * Counts out every room of `node` (one script per room: rooms live in different slots), then forgets the
 * node: its room list, its presence entry and hash. A crash midway leaves the node listed, and the next
 * count-out finishes the job (a room already counted out answers nothing). Shared by a dead node's
 * count-out and a graceful stop.
 */
export async function countOutNode(connection: RedisConnection, keys: RedisKeys, node: string): Promise<CountedOut[]> {
  const { client } = connection;
  connection.registerScripts(COUNT_OUT_ROOM);
  const rooms = await client.smembers(keys.memberRooms(node));
  const counted = await Promise.all(rooms.map((room) =>
    COUNT_OUT_ROOM.run(client, [keys.memberNodes(room)], [keys.membersBase(room), node])
      .then((reply): CountedOut => ({ room, reply }), (error: unknown): CountedOut => ({ room, error }))));
  if (counted.some((room) => 'error' in room)) return counted; // the node stays listed: counted out again later
  await client.del(keys.memberRooms(node));
  await client.multi().zrem(keys.presenceNodes(), node).del(keys.presenceNode(node)).exec();
  return counted;
}

const UNAVAILABLE = 'Room membership is unavailable';

/** How long a node's claim on a dead node holds, in heartbeats: past it (the claimer died too) another node takes over. */
const CLAIM_TTL_HEARTBEATS = 5;

/**
 * Room membership counted in Redis per node, summed over the nodes with sockets in the room (see {@link CHANGE}).
 * A node that stops without leaving (crash, SIGKILL) stays counted, like a dropped socket on a live node,
 * until it has been silent for twice the heartbeat plus the recovery window — the time its sockets had to
 * come back elsewhere; then one surviving node claims it (`members-claim:{node}`, SET NX) and counts its
 * members out room by room ({@link COUNT_OUT_ROOM}), handing the departures to the watcher (see
 * {@link watchDepartures}). While Redis is unreachable or failing every call fails at once with
 * ENGINE_UNAVAILABLE.
 */
export class RedisMembership implements MembershipStore {
  private readonly keys: RedisKeys;

  constructor(
    private readonly connection: RedisConnection,
    prefix: string,
    private readonly nodeId: string,
    private readonly timing: { readonly heartbeatMs: number; readonly recoveryWindowMs: number },
    private readonly logger: Logger,
  ) {
    this.keys = new RedisKeys(prefix);
    connection.registerScripts(CHANGE, COUNT_OUT_ROOM);
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
      const nodes = await client.smembers(this.keys.memberNodes(room));
      const pipeline = client.pipeline();
      for (const node of nodes) pipeline.hgetall(this.keys.memberUsers(room, node));
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
    const dead = await client.zrangebyscore(this.keys.presenceNodes(), '-inf', `(${Date.now() - 2 * heartbeatMs - recoveryWindowMs}`);
    for (const node of dead) {
      // Never itself: its own entry is old only while it could not beat (Redis unreachable), and it is back.
      if (node === this.nodeId) continue;
      const claimKey = this.keys.memberClaim(node);
      if (await client.set(claimKey, this.nodeId, 'PX', CLAIM_TTL_HEARTBEATS * heartbeatMs, 'NX') === null) continue;
      let departedUsers = 0;
      const counted = await countOutNode(this.connection, this.keys, node);
      for (const room of counted) {
        if ('error' in room) {
          this.logger.warn({ err: room.error, room: room.room }, 'room members of a dead node not counted out');
          continue;
        }
        const [vacated, ...userIds] = room.reply;
        if (vacated === undefined) continue;
        departedUsers += userIds.length;
        listener({ room: room.room, userIds: userIds.map(String), vacated: vacated === 1 });
      }
      if (counted.every((room) => !('error' in room))) await client.del(claimKey);
      this.logger.info({ deadNode: node, rooms: counted.length, departedUsers }, 'counted out the room members of a node that stopped beating');
    }
  }

  /**
   * Lists the room among this node's before counting (a separate command: that list lives in another
   * slot), so a node that dies right after is still counted out of it.
   */
  private async change(room: string, userId: string, delta: number): Promise<[number, number]> {
    return this.connection.run(UNAVAILABLE, async (client) => {
      if (delta > 0) await client.sadd(this.keys.memberRooms(this.nodeId), room);
      return CHANGE.run(client, [this.keys.memberNodes(room)], [this.keys.membersBase(room), this.nodeId, userId, delta]);
    });
  }
}
