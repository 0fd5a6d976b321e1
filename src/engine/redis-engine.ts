import type { LoginThrottle, ThrottleLimits } from '../stores/login-throttle.js';
import { RedisLoginThrottle } from '../stores/redis-login-throttle.js';
import { createAdapter as createPubSubAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConfig } from '../config/config.js';
import type { GatewayNamespace } from '../protocol/socket-types.js';
import type { AdapterConstructor, Engine } from './engine.js';
import { CrashRecovery } from './redis-crash-recovery.js';
import { RedisHistory } from '../stores/redis-history.js';
import { RedisMembership } from '../stores/redis-membership.js';
import { RedisClientRegistry } from '../stores/redis-client-registry.js';
import { RedisPresence } from '../stores/redis-presence.js';
import { RedisSessionStore } from '../stores/redis-active-sessions.js';

export interface RedisEngineOptions {
  readonly nodeId: string;
  /** Connection-state recovery window (0 = off); with the Streams adapter, recovery also survives a crashed node. */
  readonly recoveryWindowMs: number;
  readonly heartbeatMs: number;
  /** Messages kept per room; 0 turns history off. */
  readonly historySize: number;
  readonly historyTtlMs: number;
}

/** Upper bound on one of our own Redis commands (sessions, presence, history). */
const COMMAND_TIMEOUT_MS = 2000;

/** How long a closing node waits for Redis to answer its QUIT. */
const QUIT_TIMEOUT_MS = 1000;

/** Longest wait between two reconnection attempts to Redis. */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * The Redis engine: several gateway nodes as one. Fan-out goes through Socket.IO's official Redis
 * Streams adapter (which also keeps what connection-state recovery needs, so a client can come back to
 * any node) — or its classic pub/sub adapter with REDIS_ADAPTER=pubsub — and active sessions, presence
 * and room history live in Redis under `prefix`.
 *
 * An unreachable Redis never crashes the node: the client retries with backoff, `isReady()` is false
 * meanwhile (`/readyz` 503, publishes 503 with Retry-After), and the adapter resumes the stream after.
 */
export class RedisEngine implements Engine {
  readonly name = 'redis';
  readonly adapter: AdapterConstructor;
  readonly sessions: RedisSessionStore;
  readonly presence: RedisPresence;
  readonly history: RedisHistory | undefined;
  readonly membership: RedisMembership;
  readonly clients: RedisClientRegistry;
  private readonly client: Redis;
  private readonly adapterClient: Redis;
  /** The pub/sub adapter's subscriber connection (the streams adapter manages its own). */
  private subscriber: Redis | undefined;
  private namespace: GatewayNamespace | undefined;
  private readonly crashRecovery: CrashRecovery | undefined;
  private readonly prefix: string;

  constructor(config: RedisConfig, options: RedisEngineOptions, private readonly logger: Logger) {
    const { nodeId, heartbeatMs, historySize, historyTtlMs, recoveryWindowMs } = options;
    this.prefix = config.prefix;
    const retryStrategy = (attempt: number) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS);
    const connectionName = `switchboard:${nodeId.slice(0, 8)}`;
    // Our own commands (sessions, presence, history) fail fast while Redis is away, so no request hangs.
    this.client = new Redis(config.url, { retryStrategy, connectionName, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: COMMAND_TIMEOUT_MS });
    // The adapter's commands wait for Redis instead: its stream writer, reader and subscriber resume after.
    this.adapterClient = new Redis(config.url, { retryStrategy, connectionName, maxRetriesPerRequest: null });
    this.adapterClient.on('error', () => undefined); // reported once through the main client below
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
    const recoveryPrefix = `${config.prefix}recovery:`;
    this.crashRecovery = config.adapter === 'streams' && recoveryWindowMs > 0
      ? new CrashRecovery(this.adapterClient, recoveryPrefix, recoveryWindowMs)
      : undefined;
    // Both adapter factories are typed `(nsp: any) => Adapter` upstream; Socket.IO takes them as adapters.
    this.adapter = (config.adapter === 'streams'
      ? createStreamsAdapter(this.adapterClient, {
        streamName: `${config.prefix}stream`,
        channelPrefix: `${config.prefix}sio`,
        sessionKeyPrefix: recoveryPrefix,
        // Payloads come from JSON bodies: no binary to look for on every broadcast.
        onlyPlaintext: true,
      })
      : createPubSubAdapter(this.adapterClient, (this.subscriber = this.adapterClient.duplicate()), { key: `${config.prefix}sio` })) as unknown as AdapterConstructor;
    this.sessions = new RedisSessionStore(this.client, config.prefix);
    this.presence = new RedisPresence(this.client, config.prefix, nodeId, heartbeatMs, logger);
    this.membership = new RedisMembership(this.client, config.prefix, nodeId, heartbeatMs);
    this.clients = new RedisClientRegistry(this.client, config.prefix);
    this.history = historySize > 0 ? new RedisHistory(this.client, config.prefix, historySize, historyTtlMs) : undefined;
  }

  async bind(namespace: GatewayNamespace): Promise<void> {
    this.namespace = namespace;
    this.presence.start(namespace);
    this.crashRecovery?.start(namespace);
  }

  loginThrottle(limits: ThrottleLimits): LoginThrottle {
    return new RedisLoginThrottle(this.client, this.prefix, limits);
  }

  isReady(): boolean {
    return this.client.status === 'ready';
  }

  async close(): Promise<void> {
    this.crashRecovery?.stop();
    await this.presence.stop().catch((error: unknown) => this.logger.warn({ err: error }, 'presence cleanup failed'));
    // Closing the adapter stops its stream reader and unsubscribes; its commands still in flight must be
    // answered before the connections go, or they reject with nobody listening.
    await this.namespace?.adapter.close();
    await Promise.all([this.subscriber, this.adapterClient, this.client].map((client) => (client === undefined ? undefined : closeClient(client))));
  }
}

/** QUIT (pending replies arrive first) within a bound; a client that is not connected is just dropped. */
async function closeClient(client: Redis): Promise<void> {
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
