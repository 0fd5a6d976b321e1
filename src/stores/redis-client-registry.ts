import type { ChainableCommander } from 'ioredis';
import type { ClientRecord, ClientRegistry } from './client-registry.js';
import type { RedisConnection } from './redis-connection.js';
import { RedisKeys } from './redis-keys.js';
import { LuaScript } from './redis-scripts.js';

/**
 * Adds or removes one subscription of a registered client, in one step on the Redis server, so two nodes
 * subscribing at once both land. KEYS: the client's hash, its subscription set. ARGV: event name,
 * `add` | `remove`, now (ms). Returns nil for an unregistered client, else {HGETALL flat, SMEMBERS}.
 */
const CHANGE_SUBSCRIPTION = new LuaScript<
  [hash: string, set: string],
  [eventName: string, change: 'add' | 'remove', nowMs: number],
  [flatHash: string[], members: string[]] | null
>('switchboardChangeSubscription', 2, `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if ARGV[2] == 'add' then redis.call('SADD', KEYS[2], ARGV[1]) else redis.call('SREM', KEYS[2], ARGV[1]) end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[3])
return {redis.call('HGETALL', KEYS[1]), redis.call('SMEMBERS', KEYS[2])}
`);

const UNAVAILABLE = 'The client registry is unavailable';

/**
 * The client registry in Redis, shared by every node: hash `{client:clientId}` (fields `updatedAt`,
 * always there, and `name`, when given) and set `{client:clientId}:subscriptions`, in one hash slot
 * (see RedisKeys).
 * `put` and `remove` are MULTI transactions, subscribe/unsubscribe one Lua script. While Redis is
 * unreachable or failing every call fails at once with ENGINE_UNAVAILABLE. `close()` leaves the connection,
 * which the composition root owns and shares, open.
 */
export class RedisClientRegistry implements ClientRegistry {
  private readonly keys: RedisKeys;

  constructor(
    private readonly connection: RedisConnection,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
    connection.registerScripts(CHANGE_SUBSCRIPTION);
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    return this.connection.run(UNAVAILABLE, async (client) => {
      const [fields, members] = await this.transaction(client.multi().hgetall(this.keys.client(clientId)).smembers(this.keys.clientSubscriptions(clientId)));
      const hash = fields as Record<string, string>;
      if (hash.updatedAt === undefined) return undefined;
      return { clientId, name: hash.name, subscriptions: (members as string[]).sort() };
    });
  }

  async put(record: ClientRecord): Promise<void> {
    const { clientId, name, subscriptions } = record;
    await this.connection.run(UNAVAILABLE, async (client) => {
      const hash = this.keys.client(clientId);
      const set = this.keys.clientSubscriptions(clientId);
      const multi = client.multi().del(hash, set).hset(hash, { updatedAt: Date.now(), ...(name === undefined ? {} : { name }) });
      if (subscriptions.length > 0) multi.sadd(set, ...subscriptions);
      await this.transaction(multi);
    });
  }

  async remove(clientId: string): Promise<boolean> {
    // The set never outlives the hash (put writes both, the script adds only to a registered client).
    return this.connection.run(UNAVAILABLE, async (client) => (await client.del(this.keys.client(clientId), this.keys.clientSubscriptions(clientId))) > 0);
  }

  async subscribe(clientId: string, eventName: string): Promise<ClientRecord | undefined> {
    return this.changeSubscription(clientId, eventName, 'add');
  }

  async unsubscribe(clientId: string, eventName: string): Promise<ClientRecord | undefined> {
    return this.changeSubscription(clientId, eventName, 'remove');
  }

  async close(): Promise<void> {}

  private async changeSubscription(clientId: string, eventName: string, change: 'add' | 'remove'): Promise<ClientRecord | undefined> {
    return this.connection.run(UNAVAILABLE, async (client) => {
      const reply = await CHANGE_SUBSCRIPTION.run(client, [this.keys.client(clientId), this.keys.clientSubscriptions(clientId)], [eventName, change, Date.now()]);
      if (reply === null) return undefined;
      const [flatHash, members] = reply;
      const nameIndex = flatHash.findIndex((value, index) => index % 2 === 0 && value === 'name');
      return { clientId, name: nameIndex < 0 ? undefined : flatHash[nameIndex + 1], subscriptions: members.sort() };
    });
  }

  /** Runs a MULTI and answers its replies; a failed command fails the whole call. */
  private async transaction(multi: ChainableCommander): Promise<unknown[]> {
    const replies = await multi.exec();
    if (replies === null) throw new Error('transaction aborted');
    return replies.map(([error, reply]) => {
      if (error !== null) throw error;
      return reply;
    });
  }
}
