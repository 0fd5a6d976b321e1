import type { FastifyInstance } from 'fastify';
import type { SurfaceOptions } from '../api-context.js';
import { credentialGuard } from '../credential-guard.js';
import { historyRoutes } from './history-routes.js';
import { joinTokenRoutes } from './join-token-routes.js';
import { presenceRoutes } from './presence-routes.js';
import { publishRoutes } from './publish-routes.js';
import { statsRoutes } from './stats-routes.js';

/** The canonical API under `/v1`, every route behind an API key or a user token with the route's permission. */
export async function v1Surface(app: FastifyInstance, { context }: SurfaceOptions): Promise<void> {
  app.addHook('onRequest', credentialGuard(context.apiKeys, context.userTokens));
  await app.register(publishRoutes, { context });
  await app.register(presenceRoutes, { context });
  await app.register(statsRoutes, { context });
  await app.register(historyRoutes, { context });
  await app.register(joinTokenRoutes, { context });
}
