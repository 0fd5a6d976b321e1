import type { SampledLine } from '../runtime/log-sampler.js';
import { isGatewayError } from '../protocol/errors.js';
import type { AuthEvent, AuthStrategy, Identity } from './auth-strategy.js';
import { anonymousIdentity } from './none-strategy.js';

/**
 * Wraps a strategy so that a token that fails its check (AUTH_SOFT_FAIL=true) lets the socket in as a new
 * anonymous user instead of refusing it; the failure is logged with its code only, never the token, once
 * per code per window of the log sampler (`refusedLine`). Refused in production by the configuration.
 *
 * Only the token's own verdicts are softened: `TOKEN_*` codes (`TOKEN_EXPIRED`, `TOKEN_INVALID`).
 * `AUTH_UNAVAILABLE` is passed through: during an identity-provider outage a signed-in user must be told to
 * retry and come back as themselves, not be silently downgraded to an anonymous socket that never receives
 * their `user:{id}` messages. Anything that is not a catalog error is passed through too. A handshake with no
 * token at all is let in as anonymous without asking the inner strategy (no empty-token introspection calls);
 * a token in the query string while that is off stays refused (`TOKEN_IN_QUERY`).
 */
export class SoftFailStrategy implements AuthStrategy {
  readonly name: string;
  /** Migration mode: a client that sends no token at all is let in as anonymous too. */
  readonly acceptsMissingToken = true;

  constructor(private readonly inner: AuthStrategy, private readonly refusedLine: SampledLine) {
    this.name = `${inner.name}+soft-fail`;
  }

  async authenticate(event: AuthEvent): Promise<Identity> {
    if (event.token === '') return anonymousIdentity();
    try {
      return await this.inner.authenticate(event);
    } catch (error) {
      if (!isGatewayError(error) || !error.code.startsWith('TOKEN_')) throw error;
      const identity = anonymousIdentity();
      this.refusedLine.write(undefined, { code: error.code }, { userId: identity.userId });
      return identity;
    }
  }
}
