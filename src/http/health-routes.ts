import type { FastifyInstance } from 'fastify';
import type { SurfaceOptions } from './api-context.js';

/** `GET /healthz` (the process is alive) and `GET /readyz` (take traffic; 503 while starting, draining, or when the engine is down). No key needed. */
export async function healthRoutes(app: FastifyInstance, { context }: SurfaceOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { phase } = context.lifecycle;
    const engineReady = context.engine.isReady();
    const ready = phase === 'ready' && engineReady;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', phase, engine: engineReady ? 'up' : 'down' });
  });
}
