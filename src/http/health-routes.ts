import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { Engine } from '../engine/engine.js';
import type { Lifecycle } from '../runtime/lifecycle.js';
import { describeRoutes } from './api-docs/refusals.js';
import { PUBLIC } from './api-docs/security-schemes.js';
import { TAGS } from './api-docs/tags.js';

/** What the health routes read: the node's phase and whether the engine can serve. */
export interface HealthOptions {
  readonly lifecycle: Lifecycle;
  readonly engine: Pick<Engine, 'isReady'>;
}

/** `GET /healthz`, on the gateway's listener and the auth service's own. */
export const HEALTHZ_SCHEMA: FastifySchema = {
  summary: 'Liveness: the process runs',
  tags: [TAGS.health.name],
  security: PUBLIC,
  response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'Alive' }) },
};

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  phase: Type.String({ description: 'starting, ready, draining, closing or stopped' }),
  engine: Type.Union([Type.Literal('up'), Type.Literal('down')]),
});

/** `GET /healthz` (the process is alive) and `GET /readyz` (take traffic; 503 while starting, draining, or when the engine is down). No key needed. */
export async function healthRoutes(app: FastifyInstance, { lifecycle, engine }: HealthOptions): Promise<void> {
  describeRoutes(app, { tag: TAGS.health.name, security: PUBLIC, refusals: [] });
  app.get('/healthz', { schema: HEALTHZ_SCHEMA }, async () => ({ status: 'ok' }));
  app.get('/readyz', {
    schema: {
      summary: 'Readiness: take traffic',
      response: {
        200: { ...Readiness, description: 'Ready' },
        503: { ...Readiness, description: 'Not ready: starting, draining, or the engine is down' },
      },
    },
  }, async (_request, reply) => {
    const { phase } = lifecycle;
    const engineReady = engine.isReady();
    const ready = phase === 'ready' && engineReady;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', phase, engine: engineReady ? 'up' : 'down' });
  });
}
