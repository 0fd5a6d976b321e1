import { randomUUID } from 'node:crypto';
import { GatewayError } from '../protocol/errors.js';
import { pageOf, type HistoryMessage, type HistoryPage, type HistoryPosition, type HistoryStore } from './history.js';
import type { RedisConnection } from './redis-connection.js';
import { RedisKeys } from './redis-keys.js';
import { LuaScript } from './redis-scripts.js';

/**
 * Appends one message to one room's history, atomically: bumps the room's offset (starting a new epoch
 * when the room had none), adds the message scored by its offset, trims to the last `size`, and renews
 * the TTL. KEYS: meta hash, message zset. ARGV: epoch candidate, `offset:`-less message JSON, size, ttl ms.
 */
const APPEND = new LuaScript<
  [metaKey: string, messagesKey: string],
  [epoch: string, json: string, size: number, ttlMs: number],
  [offset: number, epoch: string]
>('switchboardHistoryAppend', 2, `
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
if offset == 1 then redis.call('HSET', KEYS[1], 'epoch', ARGV[1]) end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
redis.call('ZADD', KEYS[2], offset, offset .. ':' .. ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {offset, epoch}
`);

const UNAVAILABLE = 'Room history is unavailable';

/**
 * Room history in Redis, shared by every node: `{history:room}:meta` and `…:messages` (one room's keys in
 * one hash slot, rooms spread over the slots; see RedisKeys). While Redis is unreachable or failing every
 * call fails at once with ENGINE_UNAVAILABLE.
 */
export class RedisHistory implements HistoryStore {
  private readonly keys: RedisKeys;

  constructor(
    private readonly connection: RedisConnection,
    prefix: string,
    private readonly size: number,
    private readonly ttlMs: number,
  ) {
    this.keys = new RedisKeys(prefix);
    connection.registerScripts(APPEND);
  }

  /** One script per room, sent together (each room's keys live in their own slot). */
  async append(rooms: readonly string[], message: Omit<HistoryMessage, 'offset'>): Promise<Record<string, HistoryPosition>> {
    return this.connection.run(UNAVAILABLE, async (client) => {
      const json = JSON.stringify(message);
      const replies = await Promise.all(rooms.map((room) =>
        APPEND.run(client, [this.keys.historyMeta(room), this.keys.historyMessages(room)], [randomUUID(), json, this.size, this.ttlMs])
          .catch(() => undefined)));
      const positions: Record<string, HistoryPosition> = {};
      rooms.forEach((room, index) => {
        const reply = replies[index];
        if (reply === undefined) throw new GatewayError('ENGINE_UNAVAILABLE', 'Room history could not be written');
        const [offset, epoch] = reply;
        positions[room] = { epoch, offset };
      });
      return positions;
    });
  }

  async read(room: string, since: number | undefined, epoch: string | undefined): Promise<HistoryPage> {
    return this.connection.run(UNAVAILABLE, async (client) => {
      const [[, meta], [, members]] = (await client.multi()
        .hgetall(this.keys.historyMeta(room))
        .zrange(this.keys.historyMessages(room), '0', '-1')
        .exec()) as [[Error | null, Record<string, string>], [Error | null, string[]]];
      if (meta.epoch === undefined || meta.offset === undefined) return pageOf(room, undefined, since, epoch);
      const messages = members.map((member) => {
        const separator = member.indexOf(':');
        return { offset: Number(member.slice(0, separator)), ...(JSON.parse(member.slice(separator + 1)) as Omit<HistoryMessage, 'offset'>) };
      });
      return pageOf(room, { epoch: meta.epoch, offset: Number(meta.offset), messages }, since, epoch);
    });
  }
}
