import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RedisClient } from '../stores/redis-client.js';
import { GatewayError } from '../protocol/errors.js';
import type { ClientAddressOf } from '../runtime/client-address.js';
import type { Tally } from '../runtime/metric-series.js';

export interface HttpRateLimitOptions {
  /** Requests per second per credential (else per client address); 0 = no limit. */
  readonly perSecond: number;
  /** Shares the counters between nodes (the Redis engine's command client); `undefined` = this node's memory. */
  readonly redis: RedisClient | undefined;
  /** Prefix of the Redis keys (REDIS_DATA_PREFIX). */
  readonly prefix: string;
  readonly clientAddress: ClientAddressOf;
  /** Counts the requests refused; `undefined` = metrics off. */
  readonly refusals: Tally | undefined;
}

/** Routes never limited: probes must answer whatever a client does. */
export const UNLIMITED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/**
 * Limits the HTTP API (HTTP_RATE_LIMIT_PER_S) with `@fastify/rate-limit`: one one-second window per key
 * across every route, checked before anything else (refused credentials count too). The key is the
 * credential a request presents (`x-api-key` or `Authorization`, hashed: no key is held or stored in
 * clear), else its client address. Past the limit the
 * request is answered 429 `RATE_LIMITED` with `Retry-After` (seconds until the window ends), before its
 * body is read. With Redis the count is cluster-wide; when Redis does not answer, requests pass
 * (`skipOnError`).
 */
export async function registerHttpRateLimit(app: FastifyInstance, options: HttpRateLimitOptions): Promise<void> {
  if (options.perSecond === 0) return;
  await app.register(rateLimit, {
    global: false, // one hook at the root instead of one per route: it runs before the surfaces' credential checks
    max: options.perSecond,
    timeWindow: 1000,
    hook: 'onRequest',
    skipOnError: true,
    ...(options.redis !== undefined ? { redis: options.redis, nameSpace: `${options.prefix}http-rate:` } : {}),
    keyGenerator: (request) => rateLimitKey(request, options.clientAddress),
    allowList: (request) => UNLIMITED_PATHS.has(request.url.split('?', 1)[0]!),
    // Nothing added to answers under the limit: the publish path is hot.
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    // Called once per refused request.
    errorResponseBuilder: (_request, context) => {
      options.refusals?.inc();
      return new GatewayError('RATE_LIMITED', 'Too many requests; slow down', { retryAfterS: Math.max(1, Math.ceil(context.ttl / 1000)) });
    },
  });
  app.addHook('onRequest', app.rateLimit());
}

/** `key:<hash>` for a request presenting a credential, else `ip:<client address>`. */
function rateLimitKey(request: FastifyRequest, clientAddress: ClientAddressOf): string {
  const credential = request.headers['x-api-key'] ?? request.headers.authorization;
  if (credential === undefined || credential === '') return `ip:${clientAddress(request.raw)}`;
  const text = Array.isArray(credential) ? credential.join(',') : credential;
  return `key:${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`;
}
