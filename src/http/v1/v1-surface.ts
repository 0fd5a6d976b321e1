import type { FastifyInstance } from 'fastify';
import type { SurfaceOptions } from '../api-context.js';
import { apiKeyGuard } from '../api-key-guard.js';
import { historyRoutes } from './history-routes.js';
import { joinTokenRoutes } from './join-token-routes.js';
import { presenceRoutes } from './presence-routes.js';
import { publishRoutes } from './publish-routes.js';
import { statsRoutes } from './stats-routes.js';

/** The canonical API under `/v1`, every route behind the API key. */
export async function v1Surface(app: FastifyInstance, { context }: SurfaceOptions): Promise<void> {
  app.addHook('onRequest', apiKeyGuard(context.apiKeys));
  await app.register(publishRoutes, { context });
  await app.register(presenceRoutes, { context });
  await app.register(statsRoutes, { context });
  await app.register(historyRoutes, { context });
  await app.register(joinTokenRoutes, { context });
}
