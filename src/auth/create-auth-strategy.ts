import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { LogSampler } from '../runtime/log-sampler.js';
import type { AuthStrategy } from './auth-strategy.js';
import { IntrospectionStrategy } from './introspection-strategy.js';
import { JwtStrategy } from './jwt-strategy.js';
import { NoneStrategy } from './none-strategy.js';
import { SoftFailStrategy } from './soft-fail-strategy.js';

/**
 * Builds the client-authentication strategy AUTH_STRATEGY names, passed through `decorate` (e.g.
 * TOKEN_STATE_CHECK), then wrapped for AUTH_SOFT_FAIL when set. Called once by the composition root;
 * warns loudly when authentication is effectively off. Lines a client can repeat with every handshake go
 * through `logs`.
 */
export function createAuthStrategy(
  config: Config, logger: Logger, logs: LogSampler, decorate: (strategy: AuthStrategy) => AuthStrategy = (s) => s,
): AuthStrategy {
  const strategy = decorate(baseStrategy(config, logger, logs));
  if (!config.authSoftFail) return strategy;
  logger.warn('AUTH_SOFT_FAIL=true: sockets whose token fails its check are let in as anonymous users. Never use this in production.');
  return new SoftFailStrategy(strategy, logs.line(logger, 'warn', 'token refused, letting the socket in as anonymous (AUTH_SOFT_FAIL)'));
}

function baseStrategy(config: Config, logger: Logger, logs: LogSampler): AuthStrategy {
  switch (config.authStrategy) {
    case 'jwt':
      return new JwtStrategy(config.jwt);
    case 'introspection':
      if (config.introspection === undefined) throw new Error('AUTH_STRATEGY=introspection needs INTROSPECTION_URL');
      return new IntrospectionStrategy(config.introspection, logger, { clientIdClaim: config.jwt.clientIdClaim, logs });
    case 'none':
      logger.warn('AUTH_STRATEGY=none: EVERY client is let in as an anonymous user, no token is checked. Never use this in production.');
      return new NoneStrategy();
  }
}
