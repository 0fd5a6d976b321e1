import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { OriginPolicy } from '../security/origin-policy.js';
import { GatewayError } from '../errors/catalog.js';
import type { ApiContext } from './api-context.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { healthRoutes } from './health-routes.js';
import { internalSurface } from './internal/internal-surface.js';
import { v1Surface } from './v1/v1-surface.js';
import { validatorCompiler } from './validation.js';

/**
 * Builds the bare Fastify app: JSON bodies of at most `maxPayloadBytes`, the catalog's error answers, CORS
 * by the origin policy. Its `server` exists at once, so Socket.IO can attach before routes are added.
 */
export async function createHttpApp(maxPayloadBytes: number, originPolicy: OriginPolicy, logger: FastifyBaseLogger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    // No per-request log lines: the publish path is hot, and errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxPayloadBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
  });
  // JSON only: anything else (text/plain included) is 415 UNSUPPORTED_MEDIA_TYPE.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  await app.register(cors, {
    origin: (origin, callback) => callback(originPolicy.allows(origin) ? null : new GatewayError('ORIGIN_FORBIDDEN'), originPolicy.allows(origin)),
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['content-type', 'authorization', 'x-api-key'],
    maxAge: 600,
  });
  return app;
}

/** Adds every HTTP surface: health, `/v1`, `/internal`. */
export async function registerSurfaces(app: FastifyInstance, context: ApiContext): Promise<void> {
  await app.register(healthRoutes, { context });
  await app.register(v1Surface, { prefix: '/v1', context });
  await app.register(internalSurface, { prefix: '/internal', context });
}
