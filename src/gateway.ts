import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { RouteOptions } from 'fastify';
import type { Logger } from 'pino';
import { ApiKeyVerifier } from './auth/api-key-verifier.js';
import type { AuthStrategy } from './auth/auth-strategy.js';
import { createAuthStrategy } from './auth/create-auth-strategy.js';
import { TokenStateStrategy } from './auth/token-state-strategy.js';
import { attachClientNamespaces, namespaceDisconnector } from './http/transactions/client-namespaces.js';
import type { Config } from './config/config.js';
import type { Engine } from './engine/engine.js';
import { createHttpApp, registerSurfaces } from './http/http-server.js';
import { Lifecycle } from './runtime/lifecycle.js';
import { ClientRateLimiter } from './realtime/client-rate-limit.js';
import { createClientEventRelay } from './realtime/client-event-relay.js';
import { OutboundBufferCap } from './realtime/outbound-buffer-cap.js';
import { Publisher } from './realtime/publisher.js';
import { RoomPresence } from './realtime/room-presence.js';
import { BackendWebhooks } from './webhooks/backend-webhooks.js';
import { WebhookSender } from './webhooks/webhook-sender.js';
import { SessionControl } from './realtime/session-control.js';
import { createSocketEventListeners } from './realtime/socket-events.js';
import { attachRealtime, createSocketServer } from './realtime/socket-server.js';
import type { GatewayServer } from './protocol/socket-types.js';
import { TokenExpiryWatch } from './realtime/token-expiry.js';
import { UserConnections } from './realtime/user-connections.js';
import { clientAddressResolver } from './runtime/client-address.js';
import { LogSampler } from './runtime/log-sampler.js';
import { ConnectionAddresses } from './realtime/connection-addresses.js';
import { FailedHandshakes } from './realtime/failed-handshakes.js';
import { HandshakeRefusals } from './realtime/handshake-refusals.js';
import { OriginPolicy } from './auth/origin-policy.js';
import { openAccounts, startAuthService } from './composition/auth-service.js';
import { openSharedState } from './composition/shared-state.js';
import { gatewaySocketEvents } from './composition/gateway-socket-events.js';
import { createMetrics, redisCommandMeter, sampleGatewayState } from './composition/metrics.js';
import { createMetricsListener, metricsRoutes } from './http/metrics-routes.js';
import { countHttpRefusals, mountAdminDashboard } from './composition/admin-dashboard.js';
import { RecentActivity } from './runtime/recent-activity.js';
import { clientBundleRoutes, loadClientBundle } from './http/client-bundle-routes.js';
import { localUrl } from './runtime/local-url.js';
import type { PoolWorker } from './runtime/pool-worker.js';

/** A running gateway node, as the entry point and the tests hold it. */
export interface Gateway {
  readonly config: Config;
  readonly io: GatewayServer;
  readonly lifecycle: Lifecycle;
  /** True while the engine can serve (always for the memory engine; Redis reachable for the Redis engine). */
  engineReady(): boolean;
  /** The auth service's base URL once listening (`…/auth` with AUTH_PORT=same); `undefined` when it is off. */
  readonly authUrl: string | undefined;
  /** The keyless metrics listener's `/metrics` URL once listening (METRICS_PORT); `undefined` when there is none. */
  readonly metricsUrl: string | undefined;
  /** Starts listening (PORT 0 picks a free port) and returns the base URL, e.g. `http://127.0.0.1:41234`. */
  listen(): Promise<string>;
  /**
   * Graceful shutdown: `/readyz` turns 503 and handshakes are refused at once; after SHUTDOWN_DELAY_MS the
   * clients' transports are closed (stock clients reconnect, to another node behind a load balancer),
   * in-flight HTTP requests finish and the listener closes. The entry point bounds it by SHUTDOWN_TIMEOUT_MS.
   */
  close(): Promise<void>;
}

/** What tests and embedders may hand the composition root instead of having it built from the config. */
export interface GatewayOptions {
  /**
   * The engine to use instead of the one the config selects (e.g. a node of an `InProcessCluster`). The
   * gateway takes it over: it binds it, and closes it when it stops — one engine per gateway. The stores
   * beside the engine (client registry, login throttle) still follow the config.
   */
  readonly engine?: Engine;
  /**
   * Told of every HTTP route as it is added, with the listener it is on: the gateway's, or the auth
   * service's own (AUTH_PORT). Tests list the routes with it.
   */
  readonly onRoute?: (route: RouteOptions, listener: HttpListener) => void;
  /**
   * Set when this gateway is one worker of WORKERS (`src/runtime/pool-worker.ts`): it does not listen on
   * PORT, the primary hands it connections, and `/metrics` serves every worker's series.
   */
  readonly worker?: PoolWorker;
}

/** The HTTP listeners of a node: the gateway's (PORT), and the auth service's when it has its own (AUTH_PORT). */
export type HttpListener = 'gateway' | 'auth-service';

/** What the reference page of each listener says it documents. */
const API_DOCS_TITLES: Record<HttpListener, { title: string; description: string }> = {
  gateway: {
    title: 'Switchboard HTTP API',
    description: 'The HTTP API of a Switchboard gateway: `/v1`, the compatibility surfaces that are switched on, and the health checks '
      + '(and the auth service under `/auth` with AUTH_PORT=same). Every refusal is the catalog\'s `{ error: { code, message, details?, retryAfterS? } }` '
      + '(docs/errors.md). The socket events are described by the AsyncAPI document at `/asyncapi.json`.',
  },
  'auth-service': {
    title: 'Switchboard auth service',
    description: 'The built-in auth service on its own port (AUTH_PORT): login, refresh, logout, password, me. The gateway\'s own API is described on its port.',
  },
};

/** What the gateway's reference page adds when it serves the Client SDK's bundle (CLIENT_BUNDLE). */
const CLIENT_SDK_DESCRIPTION = '\n\n**Browsers**: the Client SDK (README, section "Client SDK": every message once and in order per room across '
  + 'reconnects, tokens refreshed without reconnecting) is served by this gateway at '
  + '[`/client/switchboard.min.js`](/client/switchboard.min.js): `<script src="/client/switchboard.min.js"></script>` (prefix your gateway\'s URL on '
  + 'another origin), then `Switchboard.createClient({ url, getToken })`.';

/**
 * The composition root: the one place that builds the engine, the auth strategy, the Socket.IO server and
 * the HTTP surfaces from the validated config and wires them together (with the pieces in
 * `src/composition/`: the shared state, the auth service, the gateway's socket events). Nothing else
 * constructs backends.
 */
export async function createGateway(config: Config, logger: Logger, options: GatewayOptions = {}): Promise<Gateway> {
  const nodeId = randomUUID();
  const log = logger.child({ node: nodeId.slice(0, 8) });
  const lifecycle = new Lifecycle();
  // One sampler for every log line a client can repeat (refused handshakes, flooding sockets, …).
  const logs = new LogSampler({ intervalMs: config.logSampleIntervalMs });
  const isDraining = () => lifecycle.isDraining;
  // One registry per node, handed to what counts; undefined with METRICS=false.
  const metrics = createMetrics(config, nodeId);
  const shared = openSharedState(config, nodeId, log.child({ component: 'engine' }), options.engine, redisCommandMeter(metrics));
  const { engine } = shared;
  const authLog = log.child({ component: 'auth' });
  const accounts = config.authService === undefined ? undefined : await openAccounts(config, config.authService);
  const strategy: AuthStrategy = createAuthStrategy(config, authLog, logs, (inner) =>
    accounts !== undefined && config.tokenStateCheck ? new TokenStateStrategy(inner, accounts.sessionCheck) : inner);
  const originPolicy = new OriginPolicy(config.corsOrigin, config.allowRequestDomains, config.trustProxy !== false && config.trustProxy !== 0);

  // One rule for "the client address of a request" (TRUST_PROXY), used by every per-address limit.
  const clientAddress = clientAddressResolver(config.trustProxy);
  const onRoute = options.onRoute;
  const connectionAddresses = new ConnectionAddresses(clientAddress);
  const app = await createHttpApp({
    maxPayloadBytes: config.maxPayloadBytes, originPolicy, lifecycle, logger: log.child({ component: 'http' }), trustProxy: config.trustProxy,
    requestTimeoutMs: config.httpRequestTimeoutMs,
    rateLimit: { perSecond: config.httpRateLimitPerS, redis: shared.redis, prefix: config.redis?.prefix ?? '', clientAddress, refusals: metrics?.rateLimit('http') },
    ...(config.apiDocs
      ? { apiDocs: { ...API_DOCS_TITLES.gateway, description: API_DOCS_TITLES.gateway.description + (config.clientBundle ? CLIENT_SDK_DESCRIPTION : '') } }
      : {}),
    ...(onRoute === undefined ? {} : { onRoute: (route: RouteOptions) => onRoute(route, 'gateway') }),
  });
  // What the admin dashboard charts: publications per second and refusals by code (HTTP and handshakes).
  const activity = config.adminUi.enabled ? new RecentActivity() : undefined;
  if (activity !== undefined) countHttpRefusals(app, activity);
  const io = createSocketServer(app.server, {
    engine, originPolicy, isDraining, maxPayloadBytes: config.maxPayloadBytes, recoveryWindowMs: config.recoveryWindowMs,
    pendingHandshakes: config.pendingHandshakes, connectionLimits: config.connectionLimits, clientAddress, connectionAddresses,
    pingIntervalMs: config.pingIntervalMs, pingTimeoutMs: config.pingTimeoutMs, connectTimeoutMs: config.connectTimeoutMs, metrics,
  });
  const realtimeLog = log.child({ component: 'realtime' });
  const refusals = new HandshakeRefusals(new FailedHandshakes(config.failedHandshakes), connectionAddresses, logs, realtimeLog, metrics, activity);
  const bufferCap = config.maxBufferedBytes > 0 ? new OutboundBufferCap(io, config.maxBufferedBytes, realtimeLog) : undefined;
  const sessionControl = new SessionControl(io, engine.sessions, config.sessionPolicy, engine.adapter !== undefined, realtimeLog);
  const publisher = new Publisher(io, engine, metrics);
  const webhookSender = new WebhookSender({ secret: config.webhooks.secret, allowedHosts: config.webhooks.allowedHosts }, log.child({ component: 'webhooks' }));
  const backendWebhooks = config.webhooks.url === undefined ? undefined : new BackendWebhooks(webhookSender, webhookSender.check(config.webhooks.url).href);
  const roomPresence = new RoomPresence(io, engine.membership, backendWebhooks, config.recoveryWindowMs, realtimeLog);
  const expiry = new TokenExpiryWatch(config.tokenExpiryGraceMs);
  const socketEvents = gatewaySocketEvents(config, { io, engine, strategy, expiry, roomPresence, publisher, webhookSender, logger: realtimeLog });
  const namespaceHooks = attachRealtime(io, {
    handshake: { strategy, originPolicy, allowQueryToken: config.allowQueryToken, isDraining, refusals, metrics },
    listenToSocket: createSocketEventListeners({
      listeners: socketEvents,
      clientEvents: createClientEventRelay({ io, clientEvents: config.clientEvents, webhookSender, backendWebhooks }),
      limiter: new ClientRateLimiter(config.clientEventsPerSecond),
      eventPermissions: config.eventPermissions,
      metrics,
      logger: realtimeLog,
      logs,
      addresses: connectionAddresses,
    }),
    expiry,
    roomPresence,
    sessionControl,
    announceRecoveryStart: config.recoveryWindowMs > 0,
    // A socket recovered through connection-state recovery skipped the handshake: its session (if the
    // auth service knows it) must still be active.
    userConnections: new UserConnections(config.connectionLimits.perUser),
    recheckRecovered: accounts === undefined ? undefined : (data) => accounts.sessionCheck.assert(data, config.tokenStateCheck),
    metrics,
    logger: realtimeLog,
    logs,
  });
  attachClientNamespaces(io, { ...namespaceHooks, registry: shared.clients, logger: realtimeLog });
  const apiKeys = new ApiKeyVerifier(config.apiKeys);
  await registerSurfaces(app, {
    health: { lifecycle, engine },
    v1: {
      apiKeys, userTokens: accounts?.userTokens, publisher, maxBatchSize: config.maxBatchSize,
      presence: engine.presence, sessions: engine.sessions, membership: engine.membership, history: engine.history, sessionControl,
      lifecycle, nodeId, engineName: engine.name, authStrategyName: strategy.name,
      sessionPolicy: config.sessionPolicy, authStrategy: config.authStrategy, authSoftFail: config.authSoftFail,
      joinTokenKey: config.apiKeys[0]!, joinTokenTtlS: config.joinTokenTtlS,
    },
    internal: config.internalApi ? { apiKeys, publisher, sessionControl, internalEvents: config.internalEvents } : undefined,
    channelEvents: config.channelEventsApi ? { apiKeys, publisher } : undefined,
    transactions: config.transactionsApi
      ? { apiKeys, adminTokens: strategy, registry: shared.clients, transactionEvents: config.transactionEvents, publisher, disconnect: namespaceDisconnector(io) }
      : undefined,
    eventGateway: config.eventGatewayApi ? { apiKeys, publisher, emit: config.gatewayEmit } : undefined,
    gatewayBasePath: config.gatewayBasePath,
    // Described from the dispatcher's own table: an event it serves without a description stops start-up.
    asyncApi: config.apiDocs
      ? { clientEvents: Object.keys(socketEvents), relayedPatterns: config.clientEvents, transactionEvents: config.transactionsApi ? config.transactionEvents : undefined }
      : undefined,
  });
  if (config.clientBundle) await app.register(clientBundleRoutes, { prefix: '/client', bundle: loadClientBundle(), logger: log.child({ component: 'http' }) });
  const { worker } = options;
  // What a scrape reads: this node's metrics, or with WORKERS every worker's, gathered by the primary.
  const scraped = metrics === undefined ? undefined : (worker?.shareMetrics(metrics) ?? metrics);
  if (metrics !== undefined && scraped !== undefined) {
    await app.register(metricsRoutes, { metrics: scraped, apiKeys, userTokens: accounts?.userTokens });
    sampleGatewayState(metrics, { io, engine, webhookSender });
  }
  const metricsListener = scraped === undefined || config.metrics?.port === undefined ? undefined : createMetricsListener(scraped, log.child({ component: 'metrics' }));
  const adminDashboard = activity === undefined ? undefined : await mountAdminDashboard(app, {
    activity, publisher, sessionTtlMs: config.adminUi.sessionTtlMs, logger: log.child({ component: 'admin' }),
    apiKeys, userTokens: accounts?.userTokens, originPolicy, io, nodeId, engineName: engine.name, lifecycle,
    presence: engine.presence, sessions: engine.sessions, membership: engine.membership, history: engine.history, sessionControl,
    maxBatchSize: config.maxBatchSize, webhooks: webhookSender, backendWebhooks: backendWebhooks !== undefined, sessionPins: worker,
  });
  const authService = accounts === undefined ? undefined : await startAuthService({
    ...accounts, config, shared, io, sessionControl, gatewayApp: app, originPolicy, lifecycle, metrics, logger: authLog,
    apiDocs: config.apiDocs ? API_DOCS_TITLES['auth-service'] : undefined,
    ...(onRoute === undefined ? {} : { onRoute: (route: RouteOptions) => onRoute(route, 'auth-service') }),
  });
  await engine.bind(io.of('/'));
  let authUrl: string | undefined;
  let metricsUrl: string | undefined;

  let closing: Promise<void> | undefined;
  return {
    config,
    io,
    lifecycle,
    get authUrl() {
      return authUrl;
    },
    engineReady: () => engine.isReady(),
    get metricsUrl() {
      return metricsUrl;
    },
    async listen() {
      const port = await takeConnections();
      lifecycle.enter('ready');
      const url = localUrl(config.host, port);
      authUrl = await authService?.listen(url);
      if (metricsListener !== undefined) metricsUrl = url.replace(/:\d+$/, `:${await metricsListener.listen(config.metrics?.port ?? 0, config.host)}/metrics`);
      log.info({ port, engine: engine.name, authStrategyName: strategy.name, sessionPolicy: config.sessionPolicy, authUrl, metricsUrl }, worker === undefined ? 'gateway listening' : 'worker listening');
      worker?.ready({ authUrl, metricsUrl });
      return url;
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };

  /** Listens on PORT and answers the port; a worker of WORKERS takes its connections from the primary instead. */
  async function takeConnections(): Promise<number> {
    if (worker !== undefined) {
      await app.ready();
      return worker.attach(io);
    }
    await app.listen({ port: config.port, host: config.host });
    return (app.server.address() as AddressInfo).port;
  }

  async function shutdown(): Promise<void> {
    lifecycle.enter('draining');
    log.info({ delayMs: config.shutdownDelayMs }, 'draining');
    if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    lifecycle.enter('closing');
    // Closing the Engine.IO transports (not a Socket.IO disconnect) is what makes stock clients reconnect.
    io.engine.close();
    bufferCap?.stop();
    adminDashboard?.close();
    await app.close();
    const inFlight = worker?.inFlight();
    if (inFlight !== undefined && inFlight.count > 0) {
      log.info({ requests: inFlight.count }, 'waiting for the requests in flight');
      await inFlight.done;
    }
    await metricsListener?.close();
    await authService?.close();
    await roomPresence.close();
    await webhookSender.close();
    await shared.close();
    await accounts?.store.close();
    logs.flush();
    lifecycle.enter('stopped');
    log.info('stopped');
  }
}
