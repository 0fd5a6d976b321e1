import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.js';
import type { Lifecycle } from '../runtime/lifecycle.js';

/** What the health routes read: the node's phase and whether the engine can serve. */
export interface HealthOptions {
  readonly lifecycle: Lifecycle;
  readonly engine: Pick<Engine, 'isReady'>;
}

/** `GET /healthz` (the process is alive) and `GET /readyz` (take traffic; 503 while starting, draining, or when the engine is down). No key needed. */
export async function healthRoutes(app: FastifyInstance, { lifecycle, engine }: HealthOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { phase } = lifecycle;
    const engineReady = engine.isReady();
    const ready = phase === 'ready' && engineReady;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', phase, engine: engineReady ? 'up' : 'down' });
  });
}
