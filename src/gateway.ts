import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ApiKeyVerifier } from './auth/api-key-verifier.js';
import type { AuthStrategy } from './auth/auth-strategy.js';
import { createAuthStrategy } from './auth/create-auth-strategy.js';
import { JwtStrategy } from './auth/jwt-strategy.js';
import { SessionStateCheck } from './auth/session-state-check.js';
import { TokenStateStrategy } from './auth/token-state-strategy.js';
import { AccountEventFeed } from './auth-service/account-event-feed.js';
import { AuthService } from './auth-service/auth-service.js';
import { prepareDummyHash } from './auth-service/passwords.js';
import { RemoteUserVerifier } from './auth-service/remote-user-verifier.js';
import { Revocations } from './auth-service/revocations.js';
import { TokenIssuer } from './auth-service/token-issuer.js';
import { StoreUserVerifier } from './auth-service/user-verifier.js';
import { createAccountStore } from './stores/create-account-store.js';
import { mountAuthService, type AuthListener } from './http/auth-service/auth-listener.js';
import { attachClientNamespaces, namespaceDisconnector } from './http/transactions/client-namespaces.js';
import type { ClientRegistry } from './stores/client-registry.js';
import { LazyClientRegistry } from './stores/lazy-client-registry.js';
import type { LoginThrottle, ThrottleLimits } from './stores/login-throttle.js';
import { MemoryLoginThrottle } from './stores/memory-login-throttle.js';
import { RedisClientRegistry } from './stores/redis-client-registry.js';
import { RedisConnection } from './stores/redis-connection.js';
import { RedisLoginThrottle } from './stores/redis-login-throttle.js';
import { SqliteClientRegistry } from './stores/sqlite-client-registry.js';
import type { AuthServiceConfig, Config } from './config/config.js';
import type { Engine } from './engine/engine.js';
import { MemoryEngine } from './engine/memory-engine.js';
import { RedisEngine } from './engine/redis-engine.js';
import { createHttpApp, registerSurfaces } from './http/http-server.js';
import { Lifecycle } from './runtime/lifecycle.js';
import { ClientRateLimiter } from './realtime/client-rate-limit.js';
import type { SocketListener } from './realtime/acknowledged-listener.js';
import { createAuthEventListeners } from './realtime/auth-events.js';
import { createChatEventListeners } from './realtime/chat-events.js';
import { createClientEventRelay } from './realtime/client-room-events.js';
import { createHistoryEventListeners } from './realtime/history-events.js';
import { Publisher } from './realtime/publisher.js';
import { createRoomEventListeners } from './realtime/room-events.js';
import { RoomPresence } from './realtime/room-presence.js';
import { BackendWebhooks } from './webhooks/backend-webhooks.js';
import { WebhookSender } from './webhooks/webhook-sender.js';
import { RoomPolicy } from './rooms/room-policy.js';
import { SessionControl } from './realtime/session-control.js';
import { createSocketEventListeners } from './realtime/socket-events.js';
import { attachRealtime, createSocketServer } from './realtime/socket-server.js';
import type { GatewayServer } from './protocol/socket-types.js';
import { TokenExpiryWatch } from './realtime/token-expiry.js';
import { OriginPolicy } from './auth/origin-policy.js';

/** A running gateway node, as the entry point and the tests hold it. */
export interface Gateway {
  readonly config: Config;
  readonly io: GatewayServer;
  readonly lifecycle: Lifecycle;
  /** The auth service's base URL once listening (`…/auth` with AUTH_PORT=same); `undefined` when it is off. */
  readonly authUrl: string | undefined;
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
}

/**
 * The composition root: the one place that builds the engine, the auth strategy, the Socket.IO server and
 * the HTTP surfaces from the validated config and wires them together. Nothing else constructs backends.
 */
export async function createGateway(config: Config, logger: Logger, options: GatewayOptions = {}): Promise<Gateway> {
  const nodeId = randomUUID();
  const log = logger.child({ node: nodeId.slice(0, 8) });
  const lifecycle = new Lifecycle();
  const isDraining = () => lifecycle.isDraining;
  const shared = openSharedState(config, nodeId, log.child({ component: 'engine' }), options.engine);
  const { engine } = shared;
  const authLog = log.child({ component: 'auth' });
  const accounts = config.authService === undefined ? undefined : await openAccounts(config, config.authService);
  const strategy: AuthStrategy = createAuthStrategy(config, authLog, (inner) =>
    accounts !== undefined && config.tokenStateCheck ? new TokenStateStrategy(inner, accounts.sessionCheck) : inner);
  const originPolicy = new OriginPolicy(config.corsOrigin, config.allowRequestDomains);

  const app = await createHttpApp({ maxPayloadBytes: config.maxPayloadBytes, originPolicy, lifecycle, logger: log.child({ component: 'http' }), trustProxy: config.trustProxy });
  const io = createSocketServer(app.server, {
    engine, originPolicy, isDraining, maxPayloadBytes: config.maxPayloadBytes, recoveryWindowMs: config.recoveryWindowMs,
  });
  const realtimeLog = log.child({ component: 'realtime' });
  const sessionControl = new SessionControl(io, engine.sessions, config.sessionPolicy, engine.adapter !== undefined, realtimeLog);
  const publisher = new Publisher(io, engine);
  const webhookSender = new WebhookSender({ secret: config.webhooks.secret, allowedHosts: config.webhooks.allowedHosts }, log.child({ component: 'webhooks' }));
  const backendWebhooks = config.webhooks.url === undefined ? undefined : new BackendWebhooks(webhookSender, webhookSender.check(config.webhooks.url).href);
  const roomPresence = new RoomPresence(io, engine.membership, backendWebhooks, config.recoveryWindowMs, realtimeLog);
  const expiry = new TokenExpiryWatch(config.tokenExpiryGraceMs);
  const namespaceHooks = attachRealtime(io, {
    handshake: { strategy, originPolicy, allowQueryToken: config.allowQueryToken, isDraining, logger: realtimeLog },
    listenToSocket: createSocketEventListeners({
      listeners: gatewaySocketEvents(config, { io, engine, strategy, expiry, roomPresence, publisher, webhookSender, logger: realtimeLog }),
      clientEvents: createClientEventRelay({ io, clientEvents: config.clientEvents, webhookSender, backendWebhooks }),
      limiter: new ClientRateLimiter(config.clientEventsPerSecond),
      eventPermissions: config.eventPermissions,
      logger: realtimeLog,
    }),
    expiry,
    roomPresence,
    sessionControl,
    // A socket recovered through connection-state recovery skipped the handshake: its session (if the
    // auth service knows it) must still be active.
    recheckRecovered: accounts === undefined ? undefined : (data) => accounts.sessionCheck.assert(data, config.tokenStateCheck),
    logger: realtimeLog,
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
    eventGateway: config.eventGatewayApi ? { apiKeys, publisher } : undefined,
    gatewayBasePath: config.gatewayBasePath,
  });
  const authService = accounts === undefined ? undefined : await startAuthService({
    ...accounts, config, shared, io, sessionControl, gatewayApp: app, originPolicy, lifecycle, logger: authLog,
  });
  await engine.bind(io.of('/'));
  let authUrl: string | undefined;

  let closing: Promise<void> | undefined;
  return {
    config,
    io,
    lifecycle,
    get authUrl() {
      return authUrl;
    },
    async listen() {
      await app.listen({ port: config.port, host: config.host });
      lifecycle.enter('ready');
      const { port } = app.server.address() as AddressInfo;
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      authUrl = await authService?.listen(url);
      log.info({ port, engine: engine.name, authStrategyName: strategy.name, sessionPolicy: config.sessionPolicy, authUrl }, 'gateway listening');
      return url;
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };

  async function shutdown(): Promise<void> {
    lifecycle.enter('draining');
    log.info({ delayMs: config.shutdownDelayMs }, 'draining');
    if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    lifecycle.enter('closing');
    // Closing the Engine.IO transports (not a Socket.IO disconnect) is what makes stock clients reconnect.
    io.engine.close();
    await app.close();
    await authService?.close();
    roomPresence.close();
    await webhookSender.close();
    await shared.close();
    await accounts?.store.close();
    lifecycle.enter('stopped');
    log.info('stopped');
  }
}

/**
 * The auth service's store and the checks built on it: the session-state cache (TOKEN_STATE_CHECK,
 * recovered sockets) and its own access tokens, always checked against the store — for its authenticated
 * routes and as user tokens on `/v1` (tokens of other identity providers never pass there).
 */
async function openAccounts(config: Config, service: AuthServiceConfig) {
  const store = await createAccountStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  const sessionCheck = new SessionStateCheck(store, config.tokenStateCacheMs);
  const userTokens = new TokenStateStrategy(
    new JwtStrategy({ ...config.jwt, secret: service.accessTokenSecret, publicKeyPem: undefined, jwksUrl: undefined, algorithms: ['HS256'] }),
    sessionCheck,
  );
  return { service, store, sessionCheck, userTokens };
}

/** The gateway's own socket events (auth, history, room and chat events), each built from the parts it uses. */
function gatewaySocketEvents(config: Config, parts: {
  readonly io: GatewayServer;
  readonly engine: Engine;
  readonly strategy: AuthStrategy;
  readonly expiry: TokenExpiryWatch;
  readonly roomPresence: RoomPresence;
  readonly publisher: Publisher;
  readonly webhookSender: WebhookSender;
  readonly logger: Logger;
}): Record<string, SocketListener> {
  const { io, engine, logger } = parts;
  return {
    ...createAuthEventListeners({ strategy: parts.strategy, expiry: parts.expiry, logger }),
    ...createHistoryEventListeners({ history: engine.history, logger }),
    ...createRoomEventListeners({
      policy: new RoomPolicy(config.publicRooms, config.maxRoomsPerSocket),
      roomPresence: parts.roomPresence,
      joinTokenKeys: config.apiKeys,
      webhookSender: parts.webhookSender,
      tokenWebhooksNeedAllowList: config.nodeEnv === 'production' && config.webhooks.allowedHosts.length === 0,
      logger,
    }),
    ...createChatEventListeners({ io, publisher: parts.publisher, membership: engine.membership, logger }),
  };
}

/** What the nodes of one deployment share: the engine and the stores beside it, in memory or in Redis. */
interface SharedState {
  readonly engine: Engine;
  /** The transaction events' client registry (SQLite under DATA_DIR on one node, Redis when clustered). */
  readonly clients: ClientRegistry;
  /** The auth service's failed-login counters. */
  loginThrottle(limits: ThrottleLimits): LoginThrottle;
  close(): Promise<void>;
}

/**
 * Builds the engine (unless `given`) and the stores beside it: in memory (one node) without REDIS_URL,
 * else on one Redis connection.
 */
function openSharedState(config: Config, nodeId: string, log: Logger, given: Engine | undefined): SharedState {
  if (config.redis === undefined) {
    const engine = given ?? new MemoryEngine(config.historySize, config.historyTtlMs);
    const clients = new LazyClientRegistry(() => new SqliteClientRegistry(config.dataDir));
    return {
      engine,
      clients,
      loginThrottle: (limits) => new MemoryLoginThrottle(limits),
      async close() {
        await engine.close();
        await clients.close();
      },
    };
  }
  const { prefix } = config.redis;
  const connection = new RedisConnection(config.redis.url, nodeId, log);
  const engine = given ?? new RedisEngine(connection, config.redis, {
    nodeId,
    heartbeatMs: config.presenceHeartbeatMs,
    historySize: config.historySize,
    historyTtlMs: config.historyTtlMs,
    recoveryWindowMs: config.recoveryWindowMs,
  }, log);
  return {
    engine,
    clients: new RedisClientRegistry(connection, prefix),
    loginThrottle: (limits) => new RedisLoginThrottle(connection, prefix, limits),
    async close() {
      // The adapter's in-flight commands are answered before the connections go.
      await engine.close();
      await connection.close();
    },
  };
}

/**
 * Builds the auth service (login, refresh, logout, password change) from its parts: token issuer, user
 * verifier (the store, or VERIFY_USER_URL), login throttle (memory or Redis), revocations reaching every
 * node's sockets, the account-event feed; and serves its routes on their own port or under `/auth`.
 */
async function startAuthService(deps: {
  readonly config: Config;
  readonly service: AuthServiceConfig;
  readonly store: Awaited<ReturnType<typeof createAccountStore>>;
  readonly sessionCheck: SessionStateCheck;
  readonly userTokens: AuthStrategy;
  readonly shared: SharedState;
  readonly io: GatewayServer;
  readonly sessionControl: SessionControl;
  readonly gatewayApp: Awaited<ReturnType<typeof createHttpApp>>;
  readonly originPolicy: OriginPolicy;
  readonly lifecycle: Lifecycle;
  readonly logger: Logger;
}): Promise<AuthListener> {
  const { config, service, store, logger } = deps;
  const issuer = new TokenIssuer(service.accessTokenSecret, service.refreshTokenSecret, config.jwt);
  const verifier = service.verifyUser === undefined
    ? new StoreUserVerifier(store)
    : new RemoteUserVerifier(service.verifyUser.url, service.verifyUser.timeoutMs, logger);
  const throttle = deps.shared.loginThrottle({ maxFailures: service.loginMaxFailures, windowMs: service.loginFailureWindowMs });
  const revocations = new Revocations(deps.io, deps.sessionControl, deps.sessionCheck, deps.shared.engine.adapter !== undefined, logger);
  const authService = new AuthService(service, store, issuer, verifier, throttle, revocations, logger);
  if (verifier.managesPasswords) await prepareDummyHash();
  const feed = new AccountEventFeed(store, service.accountEventsPollMs, (event) => revocations.apply(event), logger);
  const listener = await mountAuthService({
    service: authService, accessTokens: deps.userTokens, port: service.port, host: config.host, gatewayApp: deps.gatewayApp,
    originPolicy: deps.originPolicy, lifecycle: deps.lifecycle, trustProxy: config.trustProxy, logger,
  });
  logger.info({ store: store.name, users: verifier.name, port: service.port }, 'auth service configured');
  return {
    async listen(gatewayUrl) {
      await feed.start();
      return listener.listen(gatewayUrl);
    },
    async close() {
      await feed.stop();
      await listener.close();
      await throttle.close();
    },
  };
}
