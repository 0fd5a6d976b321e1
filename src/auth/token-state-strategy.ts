import type { AuthEvent, AuthStrategy, Identity } from './auth-strategy.js';
import type { SessionStateCheck } from './session-state-check.js';

/**
 * TOKEN_STATE_CHECK (the auth service's token table) as a strategy wrapper: after the inner strategy accepted a
 * token, the session it names must exist in the auth service's store, be active, and its user not be
 * disabled — so a logged-out, reuse-revoked or disabled user's access token stops working before it expires.
 */
export class TokenStateStrategy implements AuthStrategy {
  readonly name: string;
  readonly acceptsMissingToken: boolean | undefined;

  constructor(
    private readonly inner: AuthStrategy,
    private readonly check: SessionStateCheck,
  ) {
    this.name = inner.name;
    this.acceptsMissingToken = inner.acceptsMissingToken;
  }

  async authenticate(event: AuthEvent): Promise<Identity> {
    const identity = await this.inner.authenticate(event);
    await this.check.assert(identity, true);
    return identity;
  }
}
