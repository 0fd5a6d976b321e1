import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { GatewayError } from '../protocol/errors.js';
import type { HistoryMessage, HistoryPage, HistoryPosition, HistoryStore } from './history.js';
import { pageOf } from './memory-history.js';

/**
 * Appends one message to one room's history, atomically: bumps the room's offset (starting a new epoch
 * when the room had none), adds the message scored by its offset, trims to the last `size`, and renews
 * the TTL. KEYS: meta hash, message zset. ARGV: epoch candidate, `offset:`-less message JSON, size, ttl ms.
 */
const APPEND_SCRIPT = `
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
if offset == 1 then redis.call('HSET', KEYS[1], 'epoch', ARGV[1]) end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
redis.call('ZADD', KEYS[2], offset, offset .. ':' .. ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {offset, epoch}
`;

/** The script as an ioredis command: sent once, then run by its SHA (EVALSHA). */
const APPEND_COMMAND = 'switchboardHistoryAppend';

type AppendCommand = (metaKey: string, messagesKey: string, epoch: string, json: string, size: number, ttlMs: number) => unknown;

/** Room history in Redis, shared by every node: `{prefix}history:{room}:meta` and `…:messages`. */
export class RedisHistory implements HistoryStore {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
    private readonly size: number,
    private readonly ttlMs: number,
  ) {
    client.defineCommand(APPEND_COMMAND, { numberOfKeys: 2, lua: APPEND_SCRIPT });
  }

  async append(rooms: readonly string[], message: Omit<HistoryMessage, 'offset'>): Promise<Record<string, HistoryPosition>> {
    this.assertConnected();
    const json = JSON.stringify(message);
    const pipeline = this.client.pipeline();
    // ioredis adds defined commands to pipelines at run time; its types cannot know them.
    const append = (pipeline as unknown as Record<string, AppendCommand>)[APPEND_COMMAND]!.bind(pipeline);
    for (const room of rooms) append(this.metaKey(room), this.messagesKey(room), randomUUID(), json, this.size, this.ttlMs);
    const replies = (await pipeline.exec()) ?? [];
    const positions: Record<string, HistoryPosition> = {};
    rooms.forEach((room, index) => {
      const [error, reply] = replies[index] ?? [new Error('no reply'), null];
      if (error !== null) throw new GatewayError('ENGINE_UNAVAILABLE', 'Room history could not be written');
      const [offset, epoch] = reply as [number, string];
      positions[room] = { epoch, offset };
    });
    return positions;
  }

  async read(room: string, since: number | undefined, epoch: string | undefined): Promise<HistoryPage> {
    this.assertConnected();
    const [[, meta], [, members]] = (await this.client.multi()
      .hgetall(this.metaKey(room))
      .zrange(this.messagesKey(room), '0', '-1')
      .exec()) as [[Error | null, Record<string, string>], [Error | null, string[]]];
    if (meta.epoch === undefined || meta.offset === undefined) return pageOf(room, undefined, since, epoch);
    const messages = members.map((member) => {
      const separator = member.indexOf(':');
      return { offset: Number(member.slice(0, separator)), ...(JSON.parse(member.slice(separator + 1)) as Omit<HistoryMessage, 'offset'>) };
    });
    return pageOf(room, { epoch: meta.epoch, offset: Number(meta.offset), messages }, since, epoch);
  }

  private metaKey(room: string): string {
    return `${this.prefix}history:${room}:meta`;
  }

  private messagesKey(room: string): string {
    return `${this.prefix}history:${room}:messages`;
  }

  private assertConnected(): void {
    if (this.client.status !== 'ready') throw new GatewayError('ENGINE_UNAVAILABLE');
  }
}
