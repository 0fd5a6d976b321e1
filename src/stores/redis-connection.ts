import type { Logger } from 'pino';
import type { RedisTarget } from '../config/redis-target.js';
import { GatewayError, isGatewayError } from '../protocol/errors.js';
import { openRedisClient, type RedisClient, type RedisClientTuning } from './redis-client.js';
import type { ScriptSource } from './redis-scripts.js';

/** Upper bound on one of our own Redis commands (sessions, presence, history, registry, throttle). */
const COMMAND_TIMEOUT_MS = 2000;

/** How long a closing node waits for Redis to answer its QUIT. */
const QUIT_TIMEOUT_MS = 1000;

/** Longest wait between two reconnection attempts to Redis. */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * Commands in a row that got no answer within the command timeout before every connection is cut and
 * made again: Redis (or its host) is silent while its TCP connections stay open — a frozen process, a
 * host gone without resetting them, a Sentinel-failed master — so nothing else would ever reconnect.
 */
const SILENT_TIMEOUTS = 2;

/** Where the connection reports its own commands (the metrics): how long each took, and each failure. */
export interface RedisCommandMeter {
  readonly duration: { observe(seconds: number): void };
  readonly failures: { inc(): void };
}

/**
 * One node's connections to Redis (one server, the master the Sentinels name, or a cluster — all opened by
 * `openRedis`), shared by every Redis store: the command connection (our own commands
 * fail fast while Redis is away, so no request hangs) and, on demand, connections that wait for Redis
 * instead (the Socket.IO adapter's stream writer, reader and subscriber, which resume after an outage).
 * An unreachable Redis never crashes the node: the clients retry with backoff and one line per outage is logged.
 *
 * Stores run their commands through {@link run} and their Lua scripts through {@link registerScripts};
 * with a {@link RedisCommandMeter}, each `run` is timed (when it succeeds) or counted as failed.
 */
export class RedisConnection {
  readonly client: RedisClient;
  private readonly waiting: RedisClient[] = [];
  /** Every waiting connection still open: the ones made here and the duplicates the adapters made of them. */
  private readonly adapterClients = new Set<RedisClient>();
  /** The scripts defined on the command connection, by command name. */
  private readonly scripts = new Map<string, string>();
  /** Our commands that timed out since one was last answered. */
  private timeoutsInARow = 0;
  /** After connections were made again: checks they did not land on a silent server again. */
  private recheck: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: RedisTarget,
    private readonly nodeId: string,
    private readonly logger: Logger,
    private readonly meter?: RedisCommandMeter,
  ) {
    this.client = openRedisClient(target, { ...this.common(), enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: COMMAND_TIMEOUT_MS });
    let reported = false;
    this.client.on('error', (error: Error) => {
      // ioredis reports every failed reconnection attempt; one line per outage is enough.
      if (!reported) logger.warn({ err: { message: error.message } }, 'redis unavailable; retrying');
      reported = true;
    });
    this.client.on('ready', () => {
      if (reported) logger.info('redis available again');
      reported = false;
    });
  }

  /**
   * A connection whose commands wait for Redis to come back (for the adapter); closed with this one. The
   * adapters send commands they never await (e.g. the Streams adapter's SUBSCRIBE): when ioredis fails them
   * all at once (a refused password flushes its queue with the HELLO error, which carries the password in
   * `command.args`), each would be an unhandled rejection. Every command's failure is therefore handled here
   * (callers that await still see it), and `duplicate()` gives another such connection. `shardedSubscriber`:
   * it will SSUBSCRIBE (the sharded adapter's subscriber; see `RedisClientTuning`).
   */
  waitingClient(shardedSubscriber = false): RedisClient {
    const client = this.adapterClient(shardedSubscriber);
    this.waiting.push(client);
    return client;
  }

  /**
   * A waiting connection that its user closes: the adapters disconnect the duplicates they make (closing
   * the Streams adapter's reader under it would make its XREAD loop spin on a closed connection).
   */
  private adapterClient(shardedSubscriber: boolean): RedisClient {
    const client = openRedisClient(this.target, { ...this.common(), maxRetriesPerRequest: null, shardedSubscriber });
    client.on('error', () => undefined); // reported once through the command connection
    this.adapterClients.add(client);
    client.once('end', () => this.adapterClients.delete(client)); // closed by its user: no reconnection follows
    // Both client classes have these; their declared signatures differ per class.
    const commander = client as unknown as { sendCommand(...args: unknown[]): unknown; duplicate(): RedisClient };
    const sendCommand = commander.sendCommand.bind(client);
    commander.sendCommand = (...args: unknown[]) => {
      const sent = sendCommand(...args);
      if (sent instanceof Promise) sent.catch(() => undefined);
      return sent;
    };
    commander.duplicate = () => this.adapterClient(shardedSubscriber);
    return client;
  }

  /** True while the command connection is up: stores answer ENGINE_UNAVAILABLE otherwise. */
  isReady(): boolean {
    return this.client.status === 'ready';
  }

  /** False since one of our commands got no answer in time, until one does (or the connections are made again). */
  answering(): boolean {
    return this.timeoutsInARow === 0;
  }

  /**
   * True while every open waiting connection is up too — the adapter's stream writer, reader and
   * subscriber. A node whose reader is not reading yet would not deliver what it publishes (the Streams
   * adapter's reader starts at the end of the stream once connected), nor what other nodes do.
   */
  adapterReady(): boolean {
    for (const client of this.adapterClients) if (client.status !== 'ready') return false;
    return true;
  }

  /**
   * Runs a store's command(s) on the command connection, or answers ENGINE_UNAVAILABLE (503 / ack, with the
   * catalog's Retry-After): at once while the connection is not ready (nothing queues), and for any failure
   * of `commands` (an error reply, no answer within the command timeout, the connection lost) as
   * `{unavailable} ({cause})` — never an internal error. A refusal `commands` throws itself passes as it is.
   */
  async run<T>(unavailable: string, commands: (client: RedisClient) => Promise<T>): Promise<T> {
    if (!this.isReady()) {
      this.meter?.failures.inc();
      throw new GatewayError('ENGINE_UNAVAILABLE');
    }
    const startedAt = this.meter === undefined ? 0 : performance.now();
    try {
      const result = await commands(this.client);
      this.timeoutsInARow = 0;
      this.meter?.duration.observe((performance.now() - startedAt) / 1000);
      return result;
    } catch (error) {
      if (isGatewayError(error)) throw error;
      this.meter?.failures.inc();
      if (error instanceof Error && error.message === 'Command timed out') this.onTimeout();
      throw new GatewayError('ENGINE_UNAVAILABLE', `${unavailable} (${error instanceof Error ? error.message : 'redis error'})`);
    }
  }

  /**
   * Defines Lua scripts on the command connection (ioredis `defineCommand`), once each however many stores
   * register them. Two different scripts under one name are a bug and throw.
   */
  registerScripts(...scripts: readonly ScriptSource[]): void {
    for (const { name, numberOfKeys, lua } of scripts) {
      const registered = this.scripts.get(name);
      if (registered === lua) continue;
      if (registered !== undefined) throw new Error(`Another Lua script is already registered as ${name}`);
      this.client.defineCommand(name, numberOfKeys === 'variable' ? { lua } : { numberOfKeys, lua });
      this.scripts.set(name, lua);
    }
  }

  /** After {@link SILENT_TIMEOUTS} timeouts in a row: every connection is destroyed, so each reconnects (to the current master). */
  private onTimeout(): void {
    this.timeoutsInARow += 1;
    if (this.timeoutsInARow < SILENT_TIMEOUTS) return;
    this.timeoutsInARow = 0;
    this.logger.warn({ timeouts: SILENT_TIMEOUTS }, 'redis not answering; connections made again');
    this.connectAgain();
  }

  /**
   * Destroys every connection (`disconnect()` would end() the socket and wait for a FIN a silent peer never
   * sends), so each reconnects — with Sentinel, to the master the Sentinels name now. A connection that
   * lands on the silent server again (the Sentinels had not switched yet) is stuck in its ready check,
   * which nothing times out: it is made again until the command connection is ready.
   */
  private connectAgain(): void {
    for (const client of [this.client, ...this.adapterClients]) streamOf(client)?.destroy();
    clearTimeout(this.recheck);
    this.recheck = setTimeout(() => {
      if (this.client.status === 'connect') this.connectAgain();
    }, 2 * COMMAND_TIMEOUT_MS).unref();
  }

  async close(): Promise<void> {
    clearTimeout(this.recheck);
    await Promise.all([...this.waiting, this.client].map(closeClient));
  }

  private common(): RedisClientTuning {
    return {
      retryStrategy: (attempt: number) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
      connectionName: `switchboard:${this.nodeId.slice(0, 8)}`,
    };
  }
}

/** The TCP (or TLS) socket under a one-server or Sentinel client (none for a Cluster, which reconnects its own nodes): a documented boundary, not in ioredis's types. */
function streamOf(client: RedisClient): { destroy(): void } | undefined {
  return (client as unknown as { stream?: { destroy(): void } }).stream;
}

/** QUIT (pending replies arrive first) within a bound; a client that is not connected is just dropped. */
async function closeClient(client: RedisClient): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS)));
  await Promise.race([client.quit().then(() => undefined, () => undefined), bound]);
  clearTimeout(timer);
  client.disconnect(); // no-op once QUIT ended it; cuts it off when Redis did not answer in time
}
