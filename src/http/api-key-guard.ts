import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyVerifier } from '../auth/api-key-verifier.js';
import { stripBearer } from '../auth/extract-token.js';
import { GatewayError, type ErrorCode } from '../protocol/errors.js';
import type { Publisher } from '../realtime/publisher.js';

/**
 * An onRequest hook (it runs before the body is read) that admits a request carrying a configured API key as `Authorization: Bearer <key>` or
 * `X-Api-Key: <key>`; otherwise 401 `API_KEY_MISSING` / `API_KEY_INVALID`.
 */
export function apiKeyGuard(verifier: ApiKeyVerifier) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const presented = presentedKey(request);
    if (presented === undefined) throw new GatewayError('API_KEY_MISSING');
    if (!verifier.verify(presented)) throw new GatewayError('API_KEY_INVALID');
  };
}

/** What {@link apiKeyGuard} refuses with. */
export const API_KEY_REFUSALS: readonly ErrorCode[] = ['API_KEY_MISSING', 'API_KEY_INVALID'];

/** The credential of a request: `X-Api-Key`, else the `Authorization: Bearer` value. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  const apiKey = Array.isArray(header) ? header[0] : header;
  if (apiKey !== undefined && apiKey.length > 0) return apiKey;
  const authorization = request.headers.authorization;
  if (authorization !== undefined && /^bearer\s+\S/i.test(authorization)) return stripBearer(authorization);
  return undefined;
}

/** What a compatibility surface that only publishes needs: the API keys it sits behind and the publisher. */
export interface KeyedPublisherOptions {
  readonly apiKeys: ApiKeyVerifier;
  readonly publisher: Publisher;
}
