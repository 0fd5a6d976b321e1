/** What a client presented when it connected (or refreshed its token). */
export interface AuthEvent {
  readonly token: string;
}

/** Who the client is, as the strategy decided. */
export interface Identity {
  readonly userId: string;
  readonly sessionId: string | undefined;
  /** Unix milliseconds after which the identity is no longer valid; `undefined` when the token never expires. */
  readonly expiresAt: number | undefined;
  /** Rooms (names or `*` patterns) the credential lets the socket join; `undefined` when it grants none. */
  readonly rooms?: readonly string[];
  /** Roles: the socket is put in room `role:{role}` for each, so role-targeted events reach it. */
  readonly roles?: readonly string[];
  /** The transaction events' client (tenant) whose namespaces this identity may connect to. */
  readonly clientId?: string;
  /** What the identity may do (`publish`, …; `*` = everything); see `src/auth/permissions.ts`. */
  readonly permissions?: readonly string[];
}

/**
 * A client-authentication strategy: AuthEvent → Identity. Refusals reject with a `GatewayError`
 * (`TOKEN_EXPIRED`, `TOKEN_INVALID`, `AUTH_UNAVAILABLE`, …). The handshake and the `auth:refresh`
 * handler call it without knowing which strategy is active.
 */
export interface AuthStrategy {
  readonly name: string;
  /** True when a handshake without any token is still passed to `authenticate` (with an empty token). */
  readonly acceptsMissingToken?: boolean;
  authenticate(event: AuthEvent): Promise<Identity>;
}
