import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config.js';
import type { Publisher } from '../../realtime/publisher.js';
import type { Lifecycle } from '../../runtime/lifecycle.js';
import type { PresenceReader } from '../../stores/presence.js';
import { StatsAnswer } from './schemas.js';

/** What `GET /v1/stats` reports from: presence counts, the publisher's counter, and this node's facts and phase. */
export interface StatsRoutesOptions extends Pick<Config, 'sessionPolicy' | 'authStrategy' | 'authSoftFail'> {
  readonly presence: Pick<PresenceReader, 'stats'>;
  readonly publisher: Pick<Publisher, 'publishedCount'>;
  readonly lifecycle: Lifecycle;
  readonly nodeId: string;
  readonly engineName: string;
  /** The active client-authentication strategy as it names itself. */
  readonly authStrategyName: string;
}

/** `GET /v1/stats`: connections, users, rooms and counters of this node and its engine. */
export async function statsRoutes(app: FastifyInstance, options: StatsRoutesOptions): Promise<void> {
  const { presence, publisher, lifecycle } = options;
  const warnings = [
    ...(options.authStrategy === 'none' ? ['AUTH_STRATEGY=none: every client is let in as an anonymous user'] : []),
    ...(options.authSoftFail ? ['AUTH_SOFT_FAIL=true: clients failing authentication are let in as anonymous users'] : []),
  ];
  app.get('/stats', {
    schema: { summary: 'Counts of this node and its engine', response: { 200: { ...StatsAnswer, description: 'Connections, users and rooms (cluster-wide), and this node' } } },
    config: { refusals: ['ENGINE_UNAVAILABLE'] },
  }, async () => {
    const counts = await presence.stats();
    const memory = process.memoryUsage();
    return {
      ...counts,
      published: publisher.publishedCount,
      node: {
        id: options.nodeId,
        phase: lifecycle.phase,
        engine: options.engineName,
        auth: options.authStrategyName,
        sessionPolicy: options.sessionPolicy,
        uptimeS: Math.round((Date.now() - lifecycle.startedAt) / 1000),
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
      },
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  });
}
