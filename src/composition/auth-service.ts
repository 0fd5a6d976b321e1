import type { Logger } from 'pino';
import type { AuthStrategy } from '../auth/auth-strategy.js';
import { JwtStrategy } from '../auth/jwt-strategy.js';
import { SessionStateCheck } from '../auth/session-state-check.js';
import { TokenStateStrategy } from '../auth/token-state-strategy.js';
import { AccountEventFeed } from '../auth-service/account-event-feed.js';
import { AuthService } from '../auth-service/auth-service.js';
import { prepareDummyHash } from '../auth-service/passwords.js';
import { RemoteUserVerifier } from '../auth-service/remote-user-verifier.js';
import { Revocations } from '../auth-service/revocations.js';
import { TokenIssuer } from '../auth-service/token-issuer.js';
import { StoreUserVerifier } from '../auth-service/user-verifier.js';
import { createAccountStore } from '../stores/create-account-store.js';
import { mountAuthService, type AuthListener, type AuthListenerOptions } from '../http/auth-service/auth-listener.js';
import type { SharedState } from './shared-state.js';
import type { AuthServiceConfig, Config } from '../config/config.js';
import { createHttpApp } from '../http/http-server.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { SessionControl } from '../realtime/session-control.js';
import type { GatewayServer } from '../protocol/socket-types.js';
import { OriginPolicy } from '../auth/origin-policy.js';
import { postgresUnreachableNotice } from '../runtime/startup-notices.js';
import type { Metrics } from '../runtime/metrics.js';

/**
 * The auth service's store and the checks built on it: the session-state cache (TOKEN_STATE_CHECK,
 * recovered sockets) and its own access tokens, always checked against the store — for its authenticated
 * routes and as user tokens on `/v1` (tokens of other identity providers never pass there).
 */
export async function openAccounts(config: Config, service: AuthServiceConfig) {
  const { databaseUrl } = config;
  const store = await createAccountStore({ dataDir: config.dataDir, databaseUrl }).catch((error: unknown) => {
    throw databaseUrl === undefined ? error : new Error(postgresUnreachableNotice(databaseUrl, error));
  });
  const sessionCheck = new SessionStateCheck(store, config.tokenStateCacheMs);
  const userTokens = new TokenStateStrategy(
    new JwtStrategy({ ...config.jwt, secret: service.accessTokenSecret, publicKeyPem: undefined, jwksUrl: undefined, algorithms: ['HS256'] }),
    sessionCheck,
  );
  return { service, store, sessionCheck, userTokens };
}

/**
 * Builds the auth service (login, refresh, logout, password change) from its parts: token issuer, user
 * verifier (the store, or VERIFY_USER_URL), login throttle (memory or Redis), revocations reaching every
 * node's sockets, the account-event feed; and serves its routes on their own port or under `/auth`.
 */
export async function startAuthService(deps: {
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
  /** Counts logins, refreshes, revocations and the login throttle's refusals; `undefined` = metrics off. */
  readonly metrics: Metrics | undefined;
  readonly logger: Logger;
  /** The title of the reference page of its own listener (AUTH_PORT); `undefined` = API_DOCS off. */
  readonly apiDocs: AuthListenerOptions['apiDocs'];
  readonly onRoute?: AuthListenerOptions['onRoute'];
}): Promise<AuthListener> {
  const { config, service, store, logger } = deps;
  const issuer = new TokenIssuer(service.accessTokenSecret, service.refreshTokenSecret, config.jwt);
  const verifier = service.verifyUser === undefined
    ? new StoreUserVerifier(store)
    : new RemoteUserVerifier(service.verifyUser.url, service.verifyUser.timeoutMs, logger);
  const throttle = deps.shared.loginThrottle({ maxFailures: service.loginMaxFailures, windowMs: service.loginFailureWindowMs });
  const { metrics } = deps;
  metrics?.registerAuthService();
  const revocations = new Revocations(deps.io, deps.sessionControl, deps.sessionCheck, deps.shared.engine.adapter !== undefined, logger, metrics);
  const authService = new AuthService(service, store, issuer, verifier, throttle, revocations, logger, metrics);
  if (verifier.managesPasswords) await prepareDummyHash();
  const feed = new AccountEventFeed(store, service.accountEventsPollMs, (event) => revocations.apply(event), logger);
  const listener = await mountAuthService({
    service: authService, accessTokens: deps.userTokens, port: service.port, host: config.host, gatewayApp: deps.gatewayApp,
    originPolicy: deps.originPolicy, lifecycle: deps.lifecycle, trustProxy: config.trustProxy, logger,
    outcomes: metrics === undefined ? undefined : { login: metrics.loginOutcomes, refresh: metrics.refreshOutcomes },
    apiDocs: deps.apiDocs, ...(deps.onRoute === undefined ? {} : { onRoute: deps.onRoute }),
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
