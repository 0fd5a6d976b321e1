import type { RedisClient } from './redis-client.js';

/** A value a script takes as ARGV. */
export type ScriptArg = string | number;

/** What registering a script needs: {@link RedisConnection.registerScripts} defines it once per connection. */
export interface ScriptSource {
  /** The ioredis command name, unique per connection (`switchboard…`). */
  readonly name: string;
  /** How many leading arguments are KEYS; `'variable'` when each call's key list decides (sent as numkeys). */
  readonly numberOfKeys: number | 'variable';
  readonly lua: string;
}

/** A registered script as ioredis hangs it on a client. */
type ScriptCommand = (this: RedisClient, ...argv: ScriptArg[]) => unknown;

/**
 * One Lua script of a Redis store, declared beside the store that owns it and run through the connection's
 * script registry: registered once per connection with ioredis `defineCommand`, it runs by EVALSHA (ioredis
 * sends the source once per socket, and again when Redis answers NOSCRIPT, e.g. after a restart), with
 * {@link run}. Every key it touches is in KEYS or shares the hash tag of KEYS[1], so that on a Redis
 * Cluster it runs on the master of that one slot (see RedisKeys). `Keys`, `Args` and `Reply` type each
 * call; ioredis cannot type commands defined at run time.
 */
export class LuaScript<Keys extends readonly string[], Args extends readonly ScriptArg[], Reply> implements ScriptSource {
  constructor(
    readonly name: string,
    readonly numberOfKeys: number | 'variable',
    readonly lua: string,
  ) {}

  /** Runs the script and answers its reply. */
  async run(client: RedisClient, keys: Keys, args: Args): Promise<Reply> {
    return (await this.command(client).apply(client, this.argv(keys, args))) as Reply;
  }

  private argv(keys: Keys, args: Args): ScriptArg[] {
    return this.numberOfKeys === 'variable' ? [keys.length, ...keys, ...args] : [...keys, ...args];
  }

  private command(target: RedisClient): ScriptCommand {
    const command = (target as unknown as Record<string, ScriptCommand | undefined>)[this.name];
    if (command === undefined) throw new Error(`Lua script ${this.name} is not registered on this connection`);
    return command;
  }
}
