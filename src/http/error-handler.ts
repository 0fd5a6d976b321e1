import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

/** Node's HTTP parser errors (`clientError`), mapped onto the catalog; any other is MALFORMED_REQUEST. */
const CLIENT_ERROR_CODES: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
};

/**
 * Fastify's `clientErrorHandler`: a request Node's HTTP parser refused (a malformed request line, raw
 * non-ASCII bytes or a bad header in it, headers over the limit, broken chunked encoding, a timeout) gets
 * the catalog's answer — 400 MALFORMED_REQUEST, 431 HEADERS_TOO_LARGE or 408 REQUEST_TIMEOUT — and the
 * connection is closed (the parser cannot tell where the next request would start). Nothing is written
 * when a response on the connection has already begun, as Node's own handler does. Logged at debug, by code
 * only: the raw bytes may hold a key.
 */
export function answerClientError(this: FastifyInstance, error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const refusal = new GatewayError((error.code === undefined ? undefined : CLIENT_ERROR_CODES[error.code]) ?? 'MALFORMED_REQUEST');
  this.log.debug({ code: refusal.code, parserCode: error.code }, 'malformed request refused');
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent: boolean } })._httpMessage;
  if (socket.writable && inFlight?.headersSent !== true) {
    const body = JSON.stringify({ error: refusal.toBody() });
    const retryAfter = refusal.retryAfterS === undefined ? '' : `Retry-After: ${refusal.retryAfterS}\r\n`;
    socket.write(`HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\n${retryAfter}Connection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/** Answers `refusal` on a bare Node response (where Node, not Fastify, has the request) and closes the connection. */
export function answerRaw(response: ServerResponse, refusal: GatewayError): void {
  const body = JSON.stringify({ error: refusal.toBody() });
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'close',
  };
  if (refusal.retryAfterS !== undefined) headers['retry-after'] = String(refusal.retryAfterS);
  response.writeHead(refusal.status, headers).end(body);
}
