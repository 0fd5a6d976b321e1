import { createAdapter as createPubSubAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import type { Logger } from 'pino';
import type { RedisConfig } from '../config/config.js';
import type { GatewayNamespace } from '../protocol/socket-types.js';
import type { RedisActiveSessions } from '../stores/redis-active-sessions.js';
import type { RedisConnection } from '../stores/redis-connection.js';
import type { RedisHistory } from '../stores/redis-history.js';
import type { RedisMembership } from '../stores/redis-membership.js';
import type { RedisPresence } from '../stores/redis-presence.js';
import type { AdapterConstructor, Engine } from './engine.js';
import { CrashRecovery } from './redis-crash-recovery.js';
import { withGaplessRecovery } from './gapless-recovery.js';

/** The Redis stores the engine bundles, built by the composition root on the node's connection. */
export interface RedisEngineStores {
  readonly sessions: RedisActiveSessions;
  readonly presence: RedisPresence;
  readonly membership: RedisMembership;
  /** `undefined` when HISTORY_SIZE is 0. */
  readonly history: RedisHistory | undefined;
}

/**
 * The Redis engine: several gateway nodes as one. Fan-out goes through Socket.IO's official Redis
 * Streams adapter (which also keeps what connection-state recovery needs, so a client can come back to
 * any node) — or its classic pub/sub adapter with REDIS_ADAPTER=pubsub, or its sharded pub/sub adapter
 * (SPUBLISH/SSUBSCRIBE, a channel per room, Redis 7) with REDIS_ADAPTER=sharded — and active sessions, presence
 * and room history live in Redis under `prefix`, on the node's {@link RedisConnection}.
 *
 * While Redis is unreachable or silent (a command timed out) `isReady()` is false (`/readyz` 503, publishes 503 with Retry-After), and
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

  /**
   * `recoveryWindowMs`: connection-state recovery window (0 = off); with the Streams adapter, recovery also
   * survives a crashed node. `heartbeatMs` (PRESENCE_HEARTBEAT_MS): how often the node tells the others it is
   * alive — its presence, and the Streams adapter's own heartbeat, by which a node learns which nodes answer
   * cluster-wide requests (`fetchSockets`, the counts of a disconnect or force-logout); silent twice that long = gone.
   */
  constructor(
    private readonly connection: RedisConnection,
    config: RedisConfig,
    { recoveryWindowMs, heartbeatMs }: { readonly recoveryWindowMs: number; readonly heartbeatMs: number },
    stores: RedisEngineStores,
    private readonly logger: Logger,
  ) {
    // The adapter's commands wait for Redis instead of failing: its stream writer, reader and subscriber resume after.
    const adapterClient = connection.waitingClient();
    const recoveryPrefix = `${config.prefix}recovery:`;
    this.crashRecovery = config.adapter === 'streams' && recoveryWindowMs > 0
      ? new CrashRecovery(adapterClient, recoveryPrefix, recoveryWindowMs)
      : undefined;
    const streams = config.adapter === 'streams'
      ? createStreamsAdapter(adapterClient, {
        streamName: `${config.prefix}stream`,
        channelPrefix: `${config.prefix}sio`,
        sessionKeyPrefix: recoveryPrefix,
        // Payloads come from JSON bodies: no binary to look for on every broadcast.
        onlyPlaintext: true,
        // One liveness rule for the whole node (upstream's own defaults, 5 s and 10 s, are PRESENCE_HEARTBEAT_MS's).
        heartbeatInterval: heartbeatMs,
        heartbeatTimeout: 2 * heartbeatMs,
      })
      : undefined;
    // Both adapter factories are typed `(nsp: any) => Adapter` upstream; Socket.IO takes them as adapters.
    // With recovery on, a recovered client gets what it missed exactly once (see gapless-recovery.ts).
    this.adapter = (streams !== undefined
      ? recoveryWindowMs > 0 ? withGaplessRecovery(streams) : streams
      : config.adapter === 'sharded'
        ? createShardedAdapter(adapterClient, connection.waitingClient(true), { channelPrefix: `${config.prefix}sio` })
        : createPubSubAdapter(adapterClient, connection.waitingClient(), { key: `${config.prefix}sio` })) as unknown as AdapterConstructor;
    ({ sessions: this.sessions, presence: this.presence, membership: this.membership, history: this.history } = stores);
  }

  async bind(namespace: GatewayNamespace): Promise<void> {
    this.namespace = namespace;
    this.presence.start(namespace);
    this.crashRecovery?.start(namespace);
  }

  isReady(): boolean {
    return this.connection.isReady() && this.connection.adapterReady() && this.connection.answering();
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
