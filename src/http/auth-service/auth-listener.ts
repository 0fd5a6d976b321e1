import type { AddressInfo } from 'node:net';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Logger } from 'pino';
import type { AuthStrategy } from '../../auth/auth-strategy.js';
import type { OriginPolicy } from '../../auth/origin-policy.js';
import type { AuthService } from '../../auth-service/auth-service.js';
import type { Lifecycle } from '../../runtime/lifecycle.js';
import { createHttpApp, type HttpAppOptions } from '../http-server.js';
import { HEALTHZ_SCHEMA } from '../health-routes.js';
import { authRoutes, type AuthOutcomes } from './auth-routes.js';

export interface AuthListenerOptions {
  readonly service: AuthService;
  /** Checks the service's own access tokens for its authenticated routes. */
  readonly accessTokens: AuthStrategy;
  /** AUTH_PORT: its own port (0 = any free one), or `same`: mounted under `/auth` on the gateway's app. */
  readonly port: number | 'same';
  readonly host: string;
  readonly gatewayApp: FastifyInstance;
  readonly originPolicy: OriginPolicy;
  readonly lifecycle: Lifecycle;
  readonly trustProxy: boolean | number | readonly string[];
  /** Where logins and refreshes are counted; `undefined` = metrics off. */
  readonly outcomes: AuthOutcomes | undefined;
  readonly logger: Logger;
  /** On its own port, its own `/openapi.json` and `/docs` under this title (mounted on the gateway's, the gateway's describe it); `undefined` = off. */
  readonly apiDocs: HttpAppOptions['apiDocs'];
  /** Told of every route of its own listener. */
  readonly onRoute?: (route: RouteOptions) => void;
}

/** Where the auth service's routes are served: a listener of its own, or the gateway's. */
export interface AuthListener {
  /** Starts its own listener (unless mounted on the gateway's) and answers the service's base URL. */
  listen(gatewayUrl: string): Promise<string>;
  close(): Promise<void>;
}

/** Mounts the auth service's routes under `/auth` on the gateway's app, or on an app of its own (AUTH_PORT). */
export async function mountAuthService(options: AuthListenerOptions): Promise<AuthListener> {
  const routes = { service: options.service, accessTokens: options.accessTokens, outcomes: options.outcomes };
  const { port } = options;
  if (port === 'same') {
    await options.gatewayApp.register(authRoutes, { prefix: '/auth', ...routes });
    return { listen: async (gatewayUrl) => `${gatewayUrl}/auth`, close: async () => undefined };
  }
  const app = await createHttpApp({
    maxPayloadBytes: 64 * 1024, originPolicy: options.originPolicy, lifecycle: options.lifecycle, logger: options.logger, trustProxy: options.trustProxy,
    ...(options.apiDocs === undefined ? {} : { apiDocs: options.apiDocs }),
    ...(options.onRoute === undefined ? {} : { onRoute: options.onRoute }),
  });
  app.get('/healthz', { schema: { ...HEALTHZ_SCHEMA } }, async () => ({ status: 'ok' }));
  await app.register(authRoutes, routes);
  return {
    async listen(gatewayUrl) {
      await app.listen({ port, host: options.host });
      const address = app.server.address() as AddressInfo;
      return gatewayUrl.replace(/:\d+$/, `:${address.port}`);
    },
    close: () => app.close(),
  };
}
