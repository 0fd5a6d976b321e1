/** One entry of the catalog. */
interface CatalogEntry {
  readonly status: number;
  readonly message: string;
  /**
   * The retry hint: present on transient refusals (the same request may succeed later) as the seconds to
   * wait by default, which HTTP answers send as `Retry-After`; absent on final ones (retrying the same
   * request cannot help until the caller changes something).
   */
  readonly retryAfterS?: number;
}

/**
 * The error catalog: every refusal Switchboard gives, with its stable code, HTTP status, default message
 * and retry hint (transient codes carry a default `retryAfterS`, final codes none).
 *
 * The same body appears in HTTP answers (`{ "error": { "code", "message" } }`), in socket acks (the same)
 * and in `connect_error` data (`err.data.code`), with `retryAfterS` on transient codes (see {@link ErrorBody}).
 * Clients switch on `code`; messages may be reworded. `test/error-catalog.test.ts` checks that
 * docs/errors.md lists exactly these codes, with their status and retry hint.
 */
export const ERROR_CATALOG = {
  // --- handshake / client authentication ---
  TOKEN_MISSING: { status: 401, message: 'No token was presented; send it as auth.token or an Authorization: Bearer header' },
  TOKEN_IN_QUERY: { status: 401, message: 'Tokens in the query string are refused (they leak into access logs); send auth.token instead' },
  TOKEN_EXPIRED: { status: 401, message: 'The token has expired' },
  TOKEN_INVALID: { status: 401, message: 'The token is malformed, wrongly signed, or fails a claim check' },
  SESSION_REVOKED: { status: 403, message: 'This session is no longer the active session of the user' },
  IDENTITY_MISMATCH: { status: 403, message: 'The new token belongs to another user or session' },
  ORIGIN_FORBIDDEN: { status: 403, message: 'The Origin of this request is not allowed' },
  FORBIDDEN: { status: 403, message: 'This action needs more rights than the credential has' },
  UNKNOWN_CLIENT: { status: 404, message: 'No client is registered under this id' },
  CLIENT_FORBIDDEN: { status: 403, message: "This token may not connect to this client's namespace" },
  EVENT_NOT_SUBSCRIBED: { status: 403, message: 'The client does not subscribe to this event' },
  ROOM_FORBIDDEN: { status: 403, message: 'This socket may not read or join this room' },
  ROOM_LIMIT_REACHED: { status: 403, message: 'This socket is in as many rooms as MAX_ROOMS_PER_SOCKET allows' },
  JOIN_TOKEN_EXPIRED: { status: 401, message: 'The join token has expired' },
  JOIN_TOKEN_INVALID: { status: 401, message: 'The join token is malformed or wrongly signed' },
  AUTH_UNAVAILABLE: { status: 503, message: 'The token could not be checked right now; try again', retryAfterS: 1 },
  USER_DISABLED: { status: 403, message: 'This user is disabled' },
  // --- auth service (login, refresh, logout, password) ---
  LOGIN_FAILED: { status: 401, message: 'Wrong username or password' },
  REFRESH_TOKEN_INVALID: { status: 403, message: 'The refresh token is unknown, revoked or expired; log in again' },
  REFRESH_TOKEN_REUSED: { status: 403, message: 'This refresh token was already used; the session is revoked, log in again' },
  PASSWORD_MISMATCH: { status: 400, message: 'newPassword and confirmPassword do not match' },
  PASSWORD_UNCHANGED: { status: 400, message: 'The new password must differ from the old one' },
  PASSWORD_TOO_WEAK: { status: 400, message: 'The new password is too short, too long or only whitespace' },
  OLD_PASSWORD_WRONG: { status: 400, message: 'The old password is not right' },
  PASSWORD_CHANGE_UNSUPPORTED: { status: 403, message: "This account's password is not managed by Switchboard" },
  // --- HTTP API authentication ---
  API_KEY_MISSING: { status: 401, message: 'No API key was presented; send Authorization: Bearer <key> or X-Api-Key: <key>' },
  API_KEY_INVALID: { status: 401, message: 'The API key is not valid' },
  ADMIN_SIGN_IN_REQUIRED: { status: 401, message: 'Sign in to the admin dashboard first (at /admin/sign-in); the session may have expired' },
  // --- request shape ---
  MALFORMED_REQUEST: { status: 400, message: 'The request is not valid HTTP/1.1 (request line, header or chunked encoding)' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request line and headers are larger than the server accepts' },
  // Node's headersTimeout/requestTimeout: the client was too slow to send its request; a new one may pass.
  EXPECTATION_FAILED: { status: 417, message: 'The only Expect header the server meets is 100-continue' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request was not received in time', retryAfterS: 1 },
  INVALID_JSON: { status: 400, message: 'The body is not valid JSON' },
  INVALID_BODY: { status: 400, message: 'The request body does not match the expected shape' },
  INVALID_QUERY: { status: 400, message: 'The query string does not match the expected shape' },
  EVENT_RESERVED: { status: 400, message: 'This event name is reserved by Socket.IO' },
  EVENT_NOT_ALLOWED: { status: 400, message: 'This event may not be sent through this route' },
  EVENT_UNKNOWN: { status: 400, message: 'The server does not handle this client event' },
  NO_TARGET: { status: 400, message: 'Name at least one of rooms, users or sessions, or set broadcast: true' },
  BATCH_TOO_LARGE: { status: 400, message: 'The batch holds more items than allowed' },
  // A socket's event budget refills within a second; the login throttle passes the wait it computed.
  RATE_LIMITED: { status: 429, message: 'Too many requests or events; slow down', retryAfterS: 1 },
  WEBHOOK_URL_FORBIDDEN: { status: 400, message: 'The webhook URL is not an http(s) URL to an allowed host' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The body is larger than MAX_PAYLOAD_BYTES' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the body as application/json' },
  NOT_FOUND: { status: 404, message: 'No such route or resource' },
  // --- server state ---
  ENGINE_UNAVAILABLE: { status: 503, message: 'The engine is not available; retry shortly', retryAfterS: 1 },
  SHUTTING_DOWN: { status: 503, message: 'This node is shutting down; reconnect to another node', retryAfterS: 1 },
  // Sessions leave the count as soon as their socket is accepted, or at the connect timeout.
  TOO_MANY_PENDING_HANDSHAKES: { status: 503, message: 'Too many connections are still being set up; retry shortly', retryAfterS: 1 },
  INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** The wire shape of an error, in HTTP bodies, acks and connect_error data. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /**
   * Seconds to wait before retrying, on transient refusals only (the `Retry-After` of HTTP answers): its
   * presence tells a socket client — whose acks and `connect_error` data carry no headers — that the same
   * request may pass later. Absent on final refusals.
   */
  retryAfterS?: number;
  /** Extra machine-readable facts, e.g. the failing field or the allowed events. */
  details?: Record<string, unknown>;
}

/**
 * A refusal with a stable code from the catalog. Thrown by any layer; turned into an HTTP answer, a socket
 * ack or `connect_error` data at the edge. The message and the retry hint default to the catalog's; a
 * throw site passes `retryAfterS` only when it knows better (e.g. the login throttle's computed wait).
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  /** Seconds a client should wait before retrying (sets Retry-After on HTTP); undefined for a final refusal. */
  readonly retryAfterS: number | undefined;

  constructor(code: ErrorCode, message?: string, options: { details?: Record<string, unknown>; retryAfterS?: number } = {}) {
    super(message ?? ERROR_CATALOG[code].message);
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.details = options.details;
    this.retryAfterS = options.retryAfterS ?? retryAfterOf(code);
  }

  /** The wire shape: `retryAfterS` only on a transient refusal, `details` only when there are some. */
  toBody(): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.retryAfterS === undefined ? {} : { retryAfterS: this.retryAfterS }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** The catalog's retry hint for `code`: the default seconds to wait, or undefined when the code is final. */
export function retryAfterOf(code: ErrorCode): number | undefined {
  const entry: CatalogEntry = ERROR_CATALOG[code];
  return entry.retryAfterS;
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
