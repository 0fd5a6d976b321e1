import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AuthStrategy } from '../auth/auth-strategy.js';
import type { SessionStateCheck } from '../auth/session-state-check.js';
import type { AuthServiceConfig, Config } from '../config/config.js';
import type { Engine } from '../engine/engine.js';
import { createHttpApp } from '../http/http-server.js';
import type { Lifecycle } from '../runtime/lifecycle.js';
import type { SessionControl } from '../realtime/session-control.js';
import type { OriginPolicy } from '../auth/origin-policy.js';
import type { GatewayServer } from '../protocol/socket-types.js';
import { AccountEventFeed } from './account-event-feed.js';
import type { AccountStore } from '../stores/account-store.js';
import { authRoutes } from '../http/auth-service/auth-routes.js';
import { AuthService } from './auth-service.js';
import { RemoteUserVerifier } from './remote-user-verifier.js';
import { Revocations } from './revocations.js';
import { TokenIssuer } from './token-issuer.js';
import { StoreUserVerifier } from './user-verifier.js';
import { prepareDummyHash } from './passwords.js';

export interface AuthServerDeps {
  readonly config: Config;
  readonly service: AuthServiceConfig;
  readonly store: AccountStore;
  readonly engine: Engine;
  readonly io: GatewayServer;
  readonly sessionControl: SessionControl;
  /** The session-state cache revocations evict. */
  readonly sessionCheck: SessionStateCheck;
  /** Checks this service's access tokens for its authenticated routes: signature, expiry, session still active. */
  readonly userTokens: AuthStrategy;
  /** The gateway's app, where AUTH_PORT=same mounts the routes under `/auth`. */
  readonly gatewayApp: FastifyInstance;
  readonly originPolicy: OriginPolicy;
  readonly lifecycle: Lifecycle;
  readonly logger: Logger;
}

/** The running auth service of one node. */
export interface AuthServer {
  /** Starts its listener (unless mounted on the gateway's) and the account-event feed; answers its base URL. */
  listen(gatewayUrl: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Builds the auth service (seeds 000 and 004) from its parts: token issuer, user verifier (the store,
 * or VERIFY_USER_URL), login throttle (from the engine: memory or Redis), revocations reaching every
 * node's sockets, and the account-event feed. Called by the composition root only.
 */
export async function createAuthServer(deps: AuthServerDeps): Promise<AuthServer> {
  const { config, service, store, logger } = deps;
  const issuer = new TokenIssuer(service.accessTokenSecret, service.refreshTokenSecret, config.jwt);
  const verifier = service.verifyUser === undefined
    ? new StoreUserVerifier(store)
    : new RemoteUserVerifier(service.verifyUser.url, service.verifyUser.timeoutMs, logger);
  const throttle = deps.engine.loginThrottle({ maxFailures: service.loginMaxFailures, windowMs: service.loginFailureWindowMs });
  const revocations = new Revocations(deps.io, deps.sessionControl, deps.sessionCheck, deps.engine.adapter !== undefined, logger);
  const authService = new AuthService(service, store, issuer, verifier, throttle, revocations, logger);
  if (verifier.managesPasswords) await prepareDummyHash();
  const feed = new AccountEventFeed(store, service.accountEventsPollMs, (event) => revocations.apply(event), logger);

  let ownApp: FastifyInstance | undefined;
  if (service.port === 'same') {
    await deps.gatewayApp.register(authRoutes, { prefix: '/auth', service: authService, accessTokens: deps.userTokens });
  } else {
    ownApp = await createHttpApp({ maxPayloadBytes: 64 * 1024, originPolicy: deps.originPolicy, lifecycle: deps.lifecycle, logger, trustProxy: config.trustProxy });
    ownApp.get('/healthz', async () => ({ status: 'ok' }));
    await ownApp.register(authRoutes, { service: authService, accessTokens: deps.userTokens });
  }
  logger.info({ store: store.name, users: verifier.name, port: service.port }, 'auth service configured');

  return {
    async listen(gatewayUrl) {
      await feed.start();
      if (ownApp === undefined) return `${gatewayUrl}/auth`;
      await ownApp.listen({ port: service.port as number, host: config.host });
      const { port } = ownApp.server.address() as AddressInfo;
      return gatewayUrl.replace(/:\d+$/, `:${port}`);
    },
    async close() {
      await feed.stop();
      await ownApp?.close();
      await throttle.close();
    },
  };
}
