import type { FastifyInstance } from 'fastify';
import type { SurfaceOptions } from '../api-context.js';

/** `GET /v1/stats`: connections, users, rooms and counters of this node and its engine. */
export async function statsRoutes(app: FastifyInstance, { context }: SurfaceOptions): Promise<void> {
  const warnings = [
    ...(context.config.authStrategy === 'none' ? ['AUTH_STRATEGY=none: every client is let in as an anonymous user'] : []),
    ...(context.config.authSoftFail ? ['AUTH_SOFT_FAIL=true: clients failing authentication are let in as anonymous users'] : []),
  ];
  app.get('/stats', async () => {
    const presence = await context.engine.presence.stats();
    const memory = process.memoryUsage();
    return {
      ...presence,
      published: context.publisher.publishedCount,
      node: {
        id: context.nodeId,
        phase: context.lifecycle.phase,
        engine: context.engine.name,
        auth: context.authStrategyName,
        sessionPolicy: context.config.sessionPolicy,
        uptimeS: Math.round((Date.now() - context.lifecycle.startedAt) / 1000),
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
      },
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  });
}
