import type { ChainableCommander, Redis } from 'ioredis';

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

/** A registered script as ioredis hangs it on a client, pipeline or MULTI. */
type ScriptCommand = (this: Redis | ChainableCommander, ...argv: ScriptArg[]) => unknown;

/**
 * One Lua script of a Redis store, declared beside the store that owns it and run through the connection's
 * script registry: registered once per connection with ioredis `defineCommand`, it runs by EVALSHA (ioredis
 * sends the source once per socket, and again when Redis answers NOSCRIPT, e.g. after a restart), alone
 * with {@link run} or inside a pipeline or transaction with {@link queue}. `Keys`, `Args` and `Reply` type
 * each call; ioredis cannot type commands defined at run time.
 */
export class LuaScript<Keys extends readonly string[], Args extends readonly ScriptArg[], Reply> implements ScriptSource {
  constructor(
    readonly name: string,
    readonly numberOfKeys: number | 'variable',
    readonly lua: string,
  ) {}

  /** Runs the script and answers its reply. */
  async run(client: Redis, keys: Keys, args: Args): Promise<Reply> {
    return (await this.command(client).apply(client, this.argv(keys, args))) as Reply;
  }

  /**
   * Queues the script on a pipeline or MULTI (made after the script was registered); its reply, a
   * `Reply`, comes with the others from `exec()`.
   */
  queue<Commands extends ChainableCommander>(commands: Commands, keys: Keys, args: Args): Commands {
    this.command(commands).apply(commands, this.argv(keys, args));
    return commands;
  }

  private argv(keys: Keys, args: Args): ScriptArg[] {
    return this.numberOfKeys === 'variable' ? [keys.length, ...keys, ...args] : [...keys, ...args];
  }

  private command(target: Redis | ChainableCommander): ScriptCommand {
    const command = (target as unknown as Record<string, ScriptCommand | undefined>)[this.name];
    if (command === undefined) throw new Error(`Lua script ${this.name} is not registered on this connection`);
    return command;
  }
}
