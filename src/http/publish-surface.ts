import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Publisher } from '../realtime/publisher.js';
import type { PublishSurface } from '../runtime/metrics.js';
import { fromFastifyError } from './error-handler.js';

/**
 * When the request arrived, on `performance.now()`'s clock (Fastify's own start time of the reply, taken
 * before any hook ran), for the publish duration "request in → handed to the adapter".
 */
export function arrivalOf(reply: FastifyReply): number {
  return performance.now() - reply.elapsedTime;
}

/**
 * The route-level `onError` hook of a publish route: counts whatever refusal the route answers — a missing
 * key, a rate limit, a bad body, a refusal of the publisher — as a refused publish of `surface`, with the
 * catalog code the error handler answers. Runs on errors only.
 */
export function countRefusedPublishes(publisher: Pick<Publisher, 'refused'>, surface: PublishSurface) {
  return async (_request: FastifyRequest, _reply: FastifyReply, error: FastifyError): Promise<void> => {
    publisher.refused(surface, fromFastifyError(error).code);
  };
}
