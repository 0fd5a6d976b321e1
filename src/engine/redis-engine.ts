import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConfig } from '../config/config.js';
import type { GatewayNamespace } from '../types/socket.js';
import type { AdapterConstructor, Engine } from './engine.js';
import { RedisPresence } from './redis-presence.js';
import { RedisSessionStore } from './redis-session-store.js';

/** Longest wait between two reconnection attempts to Redis. */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * The Redis engine: several gateway nodes as one. Fan-out goes through Socket.IO's official Redis
 * Streams adapter (which also keeps what connection-state recovery needs, so a client can come back to
 * any node), active sessions and presence live in Redis under `prefix`.
 *
 * An unreachable Redis never crashes the node: the client retries with backoff, `isReady()` is false
 * meanwhile (`/readyz` 503, publishes 503 with Retry-After), and the adapter resumes the stream after.
 */
export class RedisEngine implements Engine {
  readonly name = 'redis';
  readonly adapter: AdapterConstructor;
  readonly sessions: RedisSessionStore;
  readonly presence: RedisPresence;
  private readonly client: Redis;
  private namespace: GatewayNamespace | undefined;

  constructor(config: RedisConfig, nodeId: string, heartbeatMs: number, private readonly logger: Logger) {
    this.client = new Redis(config.url, {
      retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
      maxRetriesPerRequest: 2,
      connectionName: `switchboard:${nodeId.slice(0, 8)}`,
    });
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
    this.adapter = createAdapter(this.client, {
      streamName: `${config.prefix}stream`,
      channelPrefix: `${config.prefix}sio`,
      sessionKeyPrefix: `${config.prefix}recovery:`,
      // Payloads come from JSON bodies: no binary to look for on every broadcast.
      onlyPlaintext: true,
    }) as unknown as AdapterConstructor;
    this.sessions = new RedisSessionStore(this.client, config.prefix);
    this.presence = new RedisPresence(this.client, config.prefix, nodeId, heartbeatMs, logger);
  }

  async bind(namespace: GatewayNamespace): Promise<void> {
    this.namespace = namespace;
    this.presence.start(namespace);
  }

  isReady(): boolean {
    return this.client.status === 'ready';
  }

  async close(): Promise<void> {
    await this.presence.stop().catch((error: unknown) => this.logger.warn({ err: error }, 'presence cleanup failed'));
    // Closing the adapter stops its stream reader and subscriber (duplicated clients).
    this.namespace?.adapter.close();
    this.client.disconnect();
  }
}
