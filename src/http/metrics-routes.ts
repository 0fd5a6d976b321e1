import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ApiKeyVerifier } from '../auth/api-key-verifier.js';
import type { AuthStrategy } from '../auth/auth-strategy.js';
import { PERMISSIONS } from '../auth/permissions.js';
import { GatewayError } from '../protocol/errors.js';
import type { Metrics } from '../runtime/metrics.js';
import { credentialGuard, credentialRefusals } from './credential-guard.js';
import { describeRoutes } from './api-docs/refusals.js';
import { TAGS } from './api-docs/tags.js';
import { API_KEY_OR_ACCESS_TOKEN_SECURITY, API_KEY_SECURITY } from './api-docs/security-schemes.js';
import { answerRaw } from './error-handler.js';

export interface MetricsRoutesOptions {
  readonly metrics: Pick<Metrics, 'exposition'>;
  readonly apiKeys: ApiKeyVerifier;
  /** The auth service's access tokens, accepted with the `admin` permission; `undefined` when it is off. */
  readonly userTokens: AuthStrategy | undefined;
}

/**
 * `GET /metrics` on the gateway's port: the Prometheus text exposition, behind an API key
 * (`Authorization: Bearer` or `X-Api-Key`) or an auth-service access token with the `admin` permission,
 * refused from the catalog like the rest of the API. Not registered with METRICS=false (404).
 */
export async function metricsRoutes(app: FastifyInstance, { metrics, apiKeys, userTokens }: MetricsRoutesOptions): Promise<void> {
  describeRoutes(app, {
    tag: TAGS.metrics.name,
    security: userTokens === undefined ? API_KEY_SECURITY : API_KEY_OR_ACCESS_TOKEN_SECURITY,
    refusals: credentialRefusals(userTokens),
  });
  const schema = {
    summary: 'This node\'s metrics, in the Prometheus text format',
    description: 'Every series carries the node id (label `node`); in a cluster, scrape each node. METRICS_PORT serves the same without a key.',
    response: { 200: { description: 'The Prometheus text exposition (version 0.0.4)', content: { 'text/plain': { schema: { type: 'string' } } } } },
  };
  app.get('/metrics', { schema, onRequest: credentialGuard(apiKeys, userTokens), config: { permission: PERMISSIONS.admin } }, async (_request, reply) => {
    const { contentType, body } = await metrics.exposition();
    return reply.type(contentType).send(body);
  });
}

/** The keyless scrape listener of METRICS_PORT. */
export interface MetricsListener {
  /** Starts listening and answers the port (`0` picks a free one). */
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * METRICS_PORT's listener: a bare HTTP server answering `GET /metrics` without any credential, for a
 * Prometheus inside the cluster; anything else is 404 `NOT_FOUND`. Whoever reaches the port reads the
 * metrics, so it must never be exposed publicly (docs/operations.md).
 */
export function createMetricsListener(metrics: Pick<Metrics, 'exposition'>, logger: Logger): MetricsListener {
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 10_000 }, (request, response) => {
    if (request.method !== 'GET' || request.url?.split('?', 1)[0] !== '/metrics') {
      answerRaw(response, new GatewayError('NOT_FOUND'));
      return;
    }
    metrics.exposition().then(
      ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }).end(body),
      (error: unknown) => {
        logger.error({ err: error }, 'metrics exposition failed');
        answerRaw(response, new GatewayError('INTERNAL'));
      },
    );
  });
  return {
    listen: (port, host) => new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    }),
    close: () => new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections(); // a scraper's keep-alive connection
    }),
  };
}
