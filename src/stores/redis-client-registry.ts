import type { Redis } from 'ioredis';
import { GatewayError } from '../protocol/errors.js';
import type { ClientRecord, ClientRegistry } from './client-registry.js';

/**
 * Adds or removes one subscription of a registered client, in one step on the Redis server, so two nodes
 * subscribing at once both land. KEYS: the client's hash, its subscription set. ARGV: event name,
 * `add` | `remove`, now (ms). Returns nil for an unregistered client, else {HGETALL flat, SMEMBERS}.
 */
const CHANGE_SUBSCRIPTION_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if ARGV[2] == 'add' then redis.call('SADD', KEYS[2], ARGV[1]) else redis.call('SREM', KEYS[2], ARGV[1]) end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[3])
return {redis.call('HGETALL', KEYS[1]), redis.call('SMEMBERS', KEYS[2])}
`;

/**
 * The client registry in Redis, shared by every node: hash `{prefix}client:{clientId}` (fields
 * `updatedAt`, always there, and `name`, when given) and set `{prefix}client-subscriptions:{clientId}`.
 * `put` and `remove` are MULTI transactions, subscribe/unsubscribe one Lua script. While Redis is
 * unreachable or failing every call fails at once with ENGINE_UNAVAILABLE. `close()` leaves the client,
 * which the engine owns and shares, open.
 */
export class RedisClientRegistry implements ClientRegistry {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}

  async get(clientId: string): Promise<ClientRecord | undefined> {
    return this.unavailableOnError(async () => {
      const [fields, members] = await this.transaction(this.client.multi().hgetall(this.hashKey(clientId)).smembers(this.setKey(clientId)));
      const hash = fields as Record<string, string>;
      if (hash.updatedAt === undefined) return undefined;
      return { clientId, name: hash.name, subscriptions: (members as string[]).sort() };
    });
  }

  async put(record: ClientRecord): Promise<void> {
    const { clientId, name, subscriptions } = record;
    await this.unavailableOnError(async () => {
      const hash = this.hashKey(clientId);
      const set = this.setKey(clientId);
      const multi = this.client.multi().del(hash, set).hset(hash, { updatedAt: Date.now(), ...(name === undefined ? {} : { name }) });
      if (subscriptions.length > 0) multi.sadd(set, ...subscriptions);
      await this.transaction(multi);
    });
  }

  async remove(clientId: string): Promise<boolean> {
    // The set never outlives the hash (put writes both, the script adds only to a registered client).
    return this.unavailableOnError(async () => (await this.client.del(this.hashKey(clientId), this.setKey(clientId))) > 0);
  }

  async subscribe(clientId: string, eventName: string): Promise<ClientRecord | undefined> {
    return this.changeSubscription(clientId, eventName, 'add');
  }

  async unsubscribe(clientId: string, eventName: string): Promise<ClientRecord | undefined> {
    return this.changeSubscription(clientId, eventName, 'remove');
  }

  async close(): Promise<void> {}

  private async changeSubscription(clientId: string, eventName: string, change: 'add' | 'remove'): Promise<ClientRecord | undefined> {
    return this.unavailableOnError(async () => {
      const reply = (await this.client.eval(CHANGE_SUBSCRIPTION_SCRIPT, 2, this.hashKey(clientId), this.setKey(clientId), eventName, change, Date.now())) as
        | [string[], string[]]
        | null;
      if (reply === null) return undefined;
      const [flatHash, members] = reply;
      const nameIndex = flatHash.findIndex((value, index) => index % 2 === 0 && value === 'name');
      return { clientId, name: nameIndex < 0 ? undefined : flatHash[nameIndex + 1], subscriptions: members.sort() };
    });
  }

  /** Runs a MULTI and answers its replies; a failed command fails the whole call. */
  private async transaction(multi: ReturnType<Redis['multi']>): Promise<unknown[]> {
    const replies = await multi.exec();
    if (replies === null) throw new Error('transaction aborted');
    return replies.map(([error, reply]) => {
      if (error !== null) throw error;
      return reply;
    });
  }

  private hashKey(clientId: string): string {
    return `${this.prefix}client:${clientId}`;
  }

  private setKey(clientId: string): string {
    return `${this.prefix}client-subscriptions:${clientId}`;
  }

  /** Redis away, timed out or failing: ENGINE_UNAVAILABLE (503 / ack), never an internal error. */
  private async unavailableOnError<T>(run: () => Promise<T>): Promise<T> {
    if (this.client.status !== 'ready') throw new GatewayError('ENGINE_UNAVAILABLE');
    try {
      return await run();
    } catch (error) {
      throw new GatewayError('ENGINE_UNAVAILABLE', `The client registry is unavailable (${error instanceof Error ? error.message : 'redis error'})`);
    }
  }
}
