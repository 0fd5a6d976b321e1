import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import type { OriginPolicy } from '../auth/origin-policy.js';
import { registerCors } from './cors.js';
import { GatewayError } from '../protocol/errors.js';
import { answerClientError, answerRaw, errorHandler, fromFastifyError, notFoundHandler, sendError } from './error-handler.js';
import { MAX_NAME_LENGTH } from '../protocol/names.js';
import type { Lifecycle } from '../runtime/lifecycle.js';
import { healthRoutes, type HealthOptions } from './health-routes.js';
import { internalSurface, type InternalOptions } from './internal/internal-surface.js';
import { channelEventsSurface, type ChannelEventsOptions } from './channel-events/channel-events-surface.js';
import { eventGatewaySurface, type EventGatewayOptions } from './event-gateway/event-gateway-surface.js';
import { transactionsSurface, type TransactionsOptions } from './transactions/transactions-surface.js';
import { v1Surface, type V1Options } from './v1/v1-surface.js';
import { validatorCompiler } from './validation.js';
import { registerHttpRateLimit, UNLIMITED_PATHS, type HttpRateLimitOptions } from './rate-limit.js';
import { registerApiDocs, type ApiDocsOptions } from './api-docs/openapi.js';
import { asyncApiRoutes, type AsyncApiOptions } from './api-docs/asyncapi.js';

/**
 * Builds the bare Fastify app: JSON bodies of at most `maxPayloadBytes`, the catalog's error answers, CORS
 * by the origin policy. Its `server` exists at once, so Socket.IO can attach before routes are added.
 */
export interface HttpAppOptions {
  readonly maxPayloadBytes: number;
  readonly originPolicy: OriginPolicy;
  readonly lifecycle: Lifecycle;
  readonly logger: FastifyBaseLogger;
  /** Which proxies' X-Forwarded-For names the client (`request.ip`); false = the socket's peer. */
  readonly trustProxy?: boolean | number | readonly string[];
  /** HTTP_REQUEST_TIMEOUT_MS: longest a request may take to arrive, headers and body; unset = Node's defaults. */
  readonly requestTimeoutMs?: number;
  /** HTTP_RATE_LIMIT_PER_S on every route added later; unset = none. */
  readonly rateLimit?: HttpRateLimitOptions;
  /** API_DOCS: `/openapi.json` and `/docs` describe the routes added later, under this title; unset = off. */
  readonly apiDocs?: Pick<ApiDocsOptions, 'title' | 'description'>;
  /** Told of every route added later (tests list them; embedders may too). */
  readonly onRoute?: (route: RouteOptions) => void;
}

export async function createHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const { maxPayloadBytes, originPolicy, lifecycle, logger, trustProxy = false, requestTimeoutMs, rateLimit } = options;
  const app = Fastify({
    loggerInstance: logger,
    // No per-request log lines: the publish path is hot, and errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // …and no per-request child logger either (Fastify makes one per request by default): routes log
    // through the component logger.
    childLoggerFactory: (logger) => logger,
    bodyLimit: maxPayloadBytes,
    // A hop count trusts that many proxies in front (what Fastify does for numbers; its types take a function).
    trustProxy: typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : typeof trustProxy === 'object' ? [...trustProxy] : trustProxy,
    // Requests that reach a closing node get the catalog's SHUTTING_DOWN (hook below), not Fastify's own 503.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // A client that sends its headers or body slowly (a byte every few seconds) is cut off: Node answers 408
    // and closes the connection once the whole request has not arrived within the timeout. Node checks
    // every `connectionsCheckingInterval`, so that is a fraction of the timeout.
    ...(requestTimeoutMs === undefined ? {} : { requestTimeout: requestTimeoutMs }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_NAME_LENGTH },
    // Router-level failures (bad URL encoding, over-long parameters) answer from the catalog too.
    frameworkErrors: (error, _request, reply) => sendError(reply, fromFastifyError(error)),
    // …and so do requests Node's HTTP parser refuses before Fastify sees them, and a missing Host (Node
    // would answer it with an empty 400 of its own; the onRequest hook below refuses it from the catalog).
    clientErrorHandler: answerClientError,
    http: {
      requireHostHeader: false,
      ...(requestTimeoutMs === undefined
        ? {}
        : { headersTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(requestTimeoutMs / 4))) }),
    },
  });
  if (options.onRoute !== undefined) app.addHook('onRoute', options.onRoute);
  useJsonOnly(app);
  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document the answers (OpenAPI) and serialize nothing: an answer is sent as built,
  // `JSON.stringify` as without a schema (Fastify's fast-json-stringify would drop undeclared fields).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // A callback hook (an async one costs a promise per request, on the publish path too).
  app.addHook('onRequest', (request, _reply, done) => {
    if (lifecycle.phase === 'closing' || lifecycle.phase === 'stopped') done(new GatewayError('SHUTTING_DOWN'));
    else if (request.headers.host === undefined && request.raw.httpVersionMinor >= 1) {
      done(new GatewayError('MALFORMED_REQUEST', 'An HTTP/1.1 request must have a Host header'));
    } else done();
  });
  if (rateLimit !== undefined) await registerHttpRateLimit(app, rateLimit);
  // An `Expect` other than 100-continue: Node would answer an empty 417 of its own.
  app.server.on('checkExpectation', (_request, response) => answerRaw(response, new GatewayError('EXPECTATION_FAILED')));
  await registerCors(app, originPolicy);
  if (options.apiDocs !== undefined) {
    await registerApiDocs(app, { ...options.apiDocs, rateLimited: (rateLimit?.perSecond ?? 0) > 0, unlimitedPaths: UNLIMITED_PATHS });
  }
  return app;
}

/**
 * Bodies are JSON or nothing: other media types (text/plain included) are 415 UNSUPPORTED_MEDIA_TYPE. An
 * empty JSON body reads as `null` (routes with an optional body accept it), and keys that could pollute
 * prototypes (`__proto__`, `constructor.prototype`) are refused as INVALID_BODY.
 */
function useJsonOnly(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') {
      done(null, null);
      return;
    }
    parseJson(request, body as string, (error, value) => {
      // Fastify reports poisoned keys as invalid JSON; valid JSON that failed is a poisoned key.
      if (error !== null && isValidJson(body as string)) {
        done(new GatewayError('INVALID_BODY', 'Keys named __proto__ or constructor.prototype are refused'), undefined);
      } else {
        done(error, value);
      }
    });
  });
}

/** Each HTTP surface's options, built by the composition root: every surface gets only what it uses. */
export interface HttpSurfaces {
  readonly health: HealthOptions;
  readonly v1: V1Options;
  /** The internal routes (seed 003); `undefined` when INTERNAL_API is off. */
  readonly internal: InternalOptions | undefined;
  /** The channel-events API (seed 001); `undefined` when CHANNEL_EVENTS_API is off. */
  readonly channelEvents: ChannelEventsOptions | undefined;
  /** The transaction routes at the root (seed 000); `undefined` when TRANSACTIONS_API is off. */
  readonly transactions: TransactionsOptions | undefined;
  /** The event gateway (seed 002); `undefined` when EVENT_GATEWAY_API is off. */
  readonly eventGateway: EventGatewayOptions | undefined;
  /** GATEWAY_BASE_PATH: where the event gateway's `POST /{eventName}` is mounted. */
  readonly gatewayBasePath: string;
  /** `/asyncapi.json`, the socket events' description; `undefined` when API_DOCS is off. */
  readonly asyncApi: AsyncApiOptions | undefined;
}

/** Adds the HTTP surfaces: health and `/v1` always, each compatibility surface unless its switch is off. */
export async function registerSurfaces(app: FastifyInstance, surfaces: HttpSurfaces): Promise<void> {
  await app.register(healthRoutes, surfaces.health);
  if (surfaces.asyncApi !== undefined) await asyncApiRoutes(app, surfaces.asyncApi);
  await app.register(v1Surface, { prefix: '/v1', ...surfaces.v1 });
  if (surfaces.internal !== undefined) await app.register(internalSurface, { prefix: '/internal', ...surfaces.internal });
  if (surfaces.channelEvents !== undefined) await app.register(channelEventsSurface, { prefix: '/api/socket', ...surfaces.channelEvents });
  if (surfaces.transactions !== undefined) await app.register(transactionsSurface, surfaces.transactions);
  if (surfaces.eventGateway !== undefined) {
    await app.register(eventGatewaySurface, { prefix: surfaces.gatewayBasePath === '/' ? '' : surfaces.gatewayBasePath, ...surfaces.eventGateway });
  }
}

function isValidJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
