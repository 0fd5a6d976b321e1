import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, isGatewayError, type ErrorCode } from '../protocol/errors.js';

/** Fastify's own error codes for malformed requests, mapped onto the catalog. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_BODY',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_BAD_URL: 'INVALID_QUERY',
  FST_ERR_MAX_PARAM_LENGTH: 'INVALID_QUERY',
  FST_ERR_ASYNC_CONSTRAINT: 'INVALID_QUERY',
};

/** Converts anything thrown in a route into the catalog's `{ error: { code, message } }` answer. */
export function fromFastifyError(error: FastifyError | Error): GatewayError {
  if (isGatewayError(error)) return error;
  const cause = (error as FastifyError & { cause?: unknown }).cause;
  if (isGatewayError(cause)) return cause;
  const fastifyError = error as FastifyError;
  const mapped = fastifyError.code === undefined ? undefined : FASTIFY_CODES[fastifyError.code];
  if (mapped !== undefined) return new GatewayError(mapped);
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) return new GatewayError('INVALID_JSON');
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new GatewayError(fastifyError.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : fastifyError.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_BODY', fastifyError.message);
  }
  return new GatewayError('INTERNAL');
}

export function sendError(reply: FastifyReply, error: GatewayError): FastifyReply {
  if (error.retryAfterS !== undefined) void reply.header('retry-after', String(error.retryAfterS));
  return reply.code(error.status).send({ error: error.toBody() });
}

export function errorHandler(this: unknown, error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const refusal = fromFastifyError(error);
  if (refusal.code === 'INTERNAL') request.log.error({ err: error, url: request.routeOptions.url }, 'request failed');
  else request.log.debug({ code: refusal.code }, 'request refused');
  return sendError(reply, refusal);
}

export function notFoundHandler(_request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, new GatewayError('NOT_FOUND'));
}
