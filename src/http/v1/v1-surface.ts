import type { FastifyInstance } from 'fastify';
import type { ApiKeyVerifier } from '../../auth/api-key-verifier.js';
import type { AuthStrategy } from '../../auth/auth-strategy.js';
import type { Publisher } from '../../realtime/publisher.js';
import type { PresenceReader } from '../../stores/presence.js';
import { API_KEY_OR_ACCESS_TOKEN_SECURITY, API_KEY_SECURITY } from '../api-docs/security-schemes.js';
import { describeRoutes } from '../api-docs/refusals.js';
import { TAGS } from '../api-docs/tags.js';
import { credentialGuard, credentialRefusals } from '../credential-guard.js';
import { historyRoutes, type HistoryRoutesOptions } from './history-routes.js';
import { joinTokenRoutes, type JoinTokenRoutesOptions } from './join-token-routes.js';
import { presenceRoutes, type PresenceRoutesOptions } from './presence-routes.js';
import { publishRoutes, type PublishRoutesOptions } from './publish-routes.js';
import { statsRoutes, type StatsRoutesOptions } from './stats-routes.js';

/** What `/v1` needs: the credentials it accepts, and what each of its route modules declares. */
export interface V1Options extends PublishRoutesOptions, PresenceRoutesOptions, StatsRoutesOptions, HistoryRoutesOptions, JoinTokenRoutesOptions {
  readonly apiKeys: ApiKeyVerifier;
  /** The auth service's access tokens (checked against its store), accepted with the route's permission; `undefined` when it is off. */
  readonly userTokens: AuthStrategy | undefined;
  readonly publisher: Publisher;
  readonly presence: PresenceReader;
}

/** The canonical API under `/v1`, every route behind an API key or a user token with the route's permission. */
export async function v1Surface(app: FastifyInstance, options: V1Options): Promise<void> {
  app.addHook('onRequest', credentialGuard(options.apiKeys, options.userTokens));
  describeRoutes(app, {
    tag: TAGS.v1.name,
    security: options.userTokens === undefined ? API_KEY_SECURITY : API_KEY_OR_ACCESS_TOKEN_SECURITY,
    refusals: credentialRefusals(options.userTokens),
  });
  // Plain calls, not child plugins: the options Fastify hands this plugin carry its `prefix`, which a child would add again.
  await publishRoutes(app, options);
  await presenceRoutes(app, options);
  await statsRoutes(app, options);
  await historyRoutes(app, options);
  await joinTokenRoutes(app, options);
}
