import { createAdapter as createPubSubAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import type { Logger } from 'pino';
import type { RedisConfig } from '../config/config.js';
import type { GatewayNamespace } from '../protocol/socket-types.js';
import { RedisActiveSessions } from '../stores/redis-active-sessions.js';
import type { RedisConnection } from '../stores/redis-connection.js';
import { RedisHistory } from '../stores/redis-history.js';
import { RedisMembership } from '../stores/redis-membership.js';
import { RedisPresence } from '../stores/redis-presence.js';
import type { AdapterConstructor, Engine } from './engine.js';
import { CrashRecovery } from './redis-crash-recovery.js';

export interface RedisEngineOptions {
  readonly nodeId: string;
  /** Connection-state recovery window (0 = off); with the Streams adapter, recovery also survives a crashed node. */
  readonly recoveryWindowMs: number;
  readonly heartbeatMs: number;
  /** Messages kept per room; 0 turns history off. */
  readonly historySize: number;
  readonly historyTtlMs: number;
}

/**
 * The Redis engine: several gateway nodes as one. Fan-out goes through Socket.IO's official Redis
 * Streams adapter (which also keeps what connection-state recovery needs, so a client can come back to
 * any node) — or its classic pub/sub adapter with REDIS_ADAPTER=pubsub — and active sessions, presence
 * and room history live in Redis under `prefix`, on the node's {@link RedisConnection}.
 *
 * While Redis is unreachable `isReady()` is false (`/readyz` 503, publishes 503 with Retry-After), and
 * the adapter resumes the stream after.
 */
export class RedisEngine implements Engine {
  readonly name = 'redis';
  readonly adapter: AdapterConstructor;
  readonly sessions: RedisActiveSessions;
  readonly presence: RedisPresence;
  readonly history: RedisHistory | undefined;
  readonly membership: RedisMembership;
  private namespace: GatewayNamespace | undefined;
  private readonly crashRecovery: CrashRecovery | undefined;

  constructor(private readonly connection: RedisConnection, config: RedisConfig, options: RedisEngineOptions, private readonly logger: Logger) {
    const { nodeId, heartbeatMs, historySize, historyTtlMs, recoveryWindowMs } = options;
    // The adapter's commands wait for Redis instead of failing: its stream writer, reader and subscriber resume after.
    const adapterClient = connection.waitingClient();
    const recoveryPrefix = `${config.prefix}recovery:`;
    this.crashRecovery = config.adapter === 'streams' && recoveryWindowMs > 0
      ? new CrashRecovery(adapterClient, recoveryPrefix, recoveryWindowMs)
      : undefined;
    // Both adapter factories are typed `(nsp: any) => Adapter` upstream; Socket.IO takes them as adapters.
    this.adapter = (config.adapter === 'streams'
      ? createStreamsAdapter(adapterClient, {
        streamName: `${config.prefix}stream`,
        channelPrefix: `${config.prefix}sio`,
        sessionKeyPrefix: recoveryPrefix,
        // Payloads come from JSON bodies: no binary to look for on every broadcast.
        onlyPlaintext: true,
      })
      : createPubSubAdapter(adapterClient, connection.waitingClient(), { key: `${config.prefix}sio` })) as unknown as AdapterConstructor;
    this.sessions = new RedisActiveSessions(connection, config.prefix);
    this.presence = new RedisPresence(connection, config.prefix, nodeId, heartbeatMs, logger);
    this.membership = new RedisMembership(connection, config.prefix, nodeId, heartbeatMs);
    this.history = historySize > 0 ? new RedisHistory(connection, config.prefix, historySize, historyTtlMs) : undefined;
  }

  async bind(namespace: GatewayNamespace): Promise<void> {
    this.namespace = namespace;
    this.presence.start(namespace);
    this.crashRecovery?.start(namespace);
  }

  isReady(): boolean {
    return this.connection.isReady();
  }

  /**
   * Stops presence and closes the adapter. Closing the adapter stops its stream reader and unsubscribes;
   * its commands still in flight are answered before the composition root closes the connection.
   */
  async close(): Promise<void> {
    this.crashRecovery?.stop();
    await this.presence.stop().catch((error: unknown) => this.logger.warn({ err: error }, 'presence cleanup failed'));
    await this.namespace?.adapter.close();
  }
}
