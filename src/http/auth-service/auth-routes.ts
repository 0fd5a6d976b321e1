import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthStrategy } from '../../auth/auth-strategy.js';
import { stripBearer } from '../../auth/extract-token.js';
import { GatewayError } from '../../protocol/errors.js';
import { compileValidator } from '../../protocol/validation.js';
import { fromFastifyError, sendError } from '../error-handler.js';
import type { AuthService, Caller, TokenPair } from '../../auth-service/auth-service.js';
import type { Outcomes } from '../../runtime/metric-series.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which of the auth service's counted requests this route is (its answers count as its outcomes). */
    authOutcome?: keyof AuthOutcomes;
  }
}

/** Where the outcomes of logins and refreshes are counted. */
export interface AuthOutcomes {
  readonly login: Outcomes;
  readonly refresh: Outcomes;
}
import { describeRoutes } from '../api-docs/refusals.js';
import { TAGS } from '../api-docs/tags.js';
import { ACCESS_TOKEN_SECURITY, PUBLIC } from '../api-docs/security-schemes.js';

const LoginBody = Type.Object({
  accessKey: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
}, { examples: [{ username: 'alice', password: 'correct horse battery', deviceId: 'phone-1' }, { accessKey: 'the ACCESS_KEY' }] });
type LoginBody = Static<typeof LoginBody>;

const PasswordBody = Type.Object({
  oldPassword: Type.String({ minLength: 1, maxLength: 4096 }),
  newPassword: Type.String({ minLength: 1, maxLength: 4096 }),
  confirmPassword: Type.String({ minLength: 1, maxLength: 4096 }),
}, { examples: [{ oldPassword: 'correct horse battery', newPassword: 'staple battery horse', confirmPassword: 'staple battery horse' }] });
type PasswordBody = Static<typeof PasswordBody>;

const TokenPairAnswer = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  expiresIn: Type.Integer({ description: 'Seconds until the access token expires' }),
  tokenType: Type.Literal('Bearer'),
}, { description: 'A new access token and refresh token' });

const MeAnswer = Type.Object({
  userId: Type.String(),
  sessionId: Type.Union([Type.String(), Type.Null()]),
  roles: Type.Array(Type.String()),
  permissions: Type.Array(Type.String()),
  expiresAt: Type.Union([Type.Integer(), Type.Null()], { description: 'Unix milliseconds when the access token expires' }),
}, { description: 'Who the access token names' });

/** What every route that checks an access token may refuse with. */
const ACCESS_TOKEN_REFUSALS = ['TOKEN_MISSING', 'TOKEN_EXPIRED', 'TOKEN_INVALID', 'SESSION_REVOKED', 'USER_DISABLED'] as const;

export interface AuthRoutesOptions {
  readonly service: AuthService;
  /** Checks access tokens for the authenticated routes: signature, expiry, and the session still active. */
  readonly accessTokens: AuthStrategy;
  /** `undefined` = metrics off. */
  readonly outcomes: AuthOutcomes | undefined;
}

/**
 * The auth service's HTTP API (seed 000's auth-server, on AUTH_PORT or under `/auth`): `POST /login`,
 * `POST /token`, `DELETE /logout`, `POST /password`, `GET /me`. Request bodies are never logged.
 */
export async function authRoutes(app: FastifyInstance, { service, accessTokens, outcomes }: AuthRoutesOptions): Promise<void> {
  app.setErrorHandler((error, request, reply) => {
    const refusal = answerOf(error as Error, request);
    const counted = request.routeOptions.config.authOutcome;
    if (counted !== undefined) outcomes?.[counted].refused(refusal.code);
    return sendError(reply, refusal);
  });
  describeRoutes(app, { tag: TAGS.authService.name, security: PUBLIC, refusals: [], faultsAnsweredAs: 'AUTH_UNAVAILABLE' });
  app.post<{ Body: LoginBody }>('/login', {
    schema: {
      summary: 'Log in: open a session',
      description: 'With `{ username, password }` (a user of the store, or of VERIFY_USER_URL) or `{ accessKey }` (ACCESS_KEY: an admin session). Failed logins are limited per username and per address.',
      body: LoginBody,
      response: { 200: TokenPairAnswer },
    },
    config: { authOutcome: 'login', refusals: ['LOGIN_FAILED', 'USER_DISABLED', 'RATE_LIMITED'] },
  }, async (request) => {
    const { accessKey, username, password, deviceId } = request.body;
    const context = { ip: request.ip, deviceId: deviceId ?? '' };
    let pair: TokenPair;
    if (accessKey !== undefined && username === undefined && password === undefined) pair = await service.loginWithAccessKey(accessKey, context);
    else if (accessKey === undefined && username !== undefined && password !== undefined) pair = await service.loginWithPassword(username, password, context);
    else throw new GatewayError('INVALID_BODY', 'Send { accessKey } or { username, password }');
    outcomes?.login.ok();
    return pair;
  });

  app.post('/token', {
    schema: { summary: 'Refresh: trade a refresh token for a new pair', description: 'The refresh token is spent: using it again revokes the session.', response: { 200: TokenPairAnswer } },
    config: { authOutcome: 'refresh', refusals: ['TOKEN_MISSING', 'REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_REUSED', 'USER_DISABLED'], documentedBody: RefreshTokenBody },
  }, async (request) => {
    const pair = await service.refresh(refreshTokenOf(request.body));
    outcomes?.refresh.ok();
    return pair;
  });

  app.delete('/logout', {
    schema: {
      summary: 'Log out: end the refresh token\'s session',
      description: 'Its sockets get `auth:logout` and are disconnected.',
      response: { 204: Type.Null({ description: 'Logged out' }) },
    },
    config: { refusals: ['TOKEN_MISSING', 'REFRESH_TOKEN_INVALID'], documentedBody: RefreshTokenBody },
  }, async (request, reply) => {
    await service.logout(refreshTokenOf(request.body));
    return reply.code(204).send();
  });

  app.post<{ Body: PasswordBody }>('/password', {
    schema: {
      summary: 'Change the caller\'s password',
      description: 'Every other session of the user is revoked.',
      security: ACCESS_TOKEN_SECURITY,
      body: PasswordBody,
      response: { 200: Type.Object({ ok: Type.Literal(true), sessionsRevoked: Type.Integer({ minimum: 0 }) }, { description: 'Changed' }) },
    },
    config: {
      refusals: [...ACCESS_TOKEN_REFUSALS, 'PASSWORD_MISMATCH', 'PASSWORD_UNCHANGED', 'PASSWORD_TOO_WEAK', 'OLD_PASSWORD_WRONG', 'PASSWORD_CHANGE_UNSUPPORTED'],
    },
  }, async (request) => {
    const caller = await authenticate(request, accessTokens);
    const { oldPassword, newPassword, confirmPassword } = request.body;
    return { ok: true, sessionsRevoked: await service.changePassword(caller, oldPassword, newPassword, confirmPassword) };
  });

  app.get('/me', {
    schema: { summary: 'Who the access token names', security: ACCESS_TOKEN_SECURITY, response: { 200: MeAnswer } },
    config: { refusals: [...ACCESS_TOKEN_REFUSALS] },
  }, async (request) => {
    const identity = await accessTokens.authenticate({ token: bearerOf(request) });
    return {
      userId: identity.userId,
      sessionId: identity.sessionId ?? null,
      roles: identity.roles ?? [],
      permissions: identity.permissions ?? [],
      expiresAt: identity.expiresAt ?? null,
    };
  });
}

/**
 * The refusal an auth service route answers for `error`. A failure that is not a refusal, or the Redis
 * throttle's ENGINE_UNAVAILABLE, is the store or the throttle being unreachable: 503 AUTH_UNAVAILABLE, try again.
 */
function answerOf(error: Error, request: FastifyRequest): GatewayError {
  const refusal = fromFastifyError(error);
  if (refusal.code !== 'INTERNAL' && refusal.code !== 'ENGINE_UNAVAILABLE') return refusal;
  // A throttle that cannot answer is a known, passing outage (warned); anything else is a fault.
  const log = refusal.code === 'ENGINE_UNAVAILABLE' ? request.log.warn.bind(request.log) : request.log.error.bind(request.log);
  log({ err: error, url: request.routeOptions.url }, 'auth service request failed');
  return new GatewayError('AUTH_UNAVAILABLE', 'The auth service cannot answer right now; try again');
}

/** A refresh token as `POST /token` and `DELETE /logout` take it. */
const RefreshToken = Type.String({ maxLength: 8192 });
const checkRefreshToken = compileValidator(RefreshToken).check;

/** Their body, as {@link refreshTokenOf} reads it (by hand: a missing token is TOKEN_MISSING, not INVALID_BODY); for the document. */
const RefreshTokenBody = Type.Union([Type.Object({ token: RefreshToken }), Type.Object({ refreshToken: RefreshToken })], {
  examples: [{ token: 'the refreshToken of POST /login' }],
});

/**
 * `{ token }` (the seed's shape) or `{ refreshToken }`. A missing token (no body, no field, empty) is 401
 * TOKEN_MISSING, as for a missing access token; a token that is not a string of at most 8 KiB is 400
 * INVALID_BODY naming `token`.
 */
function refreshTokenOf(body: unknown): string {
  const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const token = fields.token ?? fields.refreshToken;
  if (token === undefined || token === null || token === '') throw new GatewayError('TOKEN_MISSING', 'Send the refresh token as { "token": "…" }');
  return checkRefreshToken(token, 'token');
}

function bearerOf(request: FastifyRequest): string {
  const authorization = request.headers.authorization;
  if (authorization === undefined || !/^bearer\s+\S/i.test(authorization)) throw new GatewayError('TOKEN_MISSING', 'Send the access token as Authorization: Bearer <token>');
  return stripBearer(authorization);
}

async function authenticate(request: FastifyRequest, accessTokens: AuthStrategy): Promise<Caller> {
  const identity = await accessTokens.authenticate({ token: bearerOf(request) });
  if (identity.sessionId === undefined) throw new GatewayError('TOKEN_INVALID', 'The token names no session');
  return { userId: identity.userId, sessionId: identity.sessionId };
}
