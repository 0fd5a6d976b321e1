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

const LoginBody = Type.Object({
  accessKey: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});
type LoginBody = Static<typeof LoginBody>;

const PasswordBody = Type.Object({
  oldPassword: Type.String({ minLength: 1, maxLength: 4096 }),
  newPassword: Type.String({ minLength: 1, maxLength: 4096 }),
  confirmPassword: Type.String({ minLength: 1, maxLength: 4096 }),
});
type PasswordBody = Static<typeof PasswordBody>;

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
  app.post<{ Body: LoginBody }>('/login', { schema: { body: LoginBody }, config: { authOutcome: 'login' } }, async (request) => {
    const { accessKey, username, password, deviceId } = request.body;
    const context = { ip: request.ip, deviceId: deviceId ?? '' };
    let pair: TokenPair;
    if (accessKey !== undefined && username === undefined && password === undefined) pair = await service.loginWithAccessKey(accessKey, context);
    else if (accessKey === undefined && username !== undefined && password !== undefined) pair = await service.loginWithPassword(username, password, context);
    else throw new GatewayError('INVALID_BODY', 'Send { accessKey } or { username, password }');
    outcomes?.login.ok();
    return pair;
  });

  app.post('/token', { config: { authOutcome: 'refresh' } }, async (request) => {
    const pair = await service.refresh(refreshTokenOf(request.body));
    outcomes?.refresh.ok();
    return pair;
  });

  app.delete('/logout', async (request, reply) => {
    await service.logout(refreshTokenOf(request.body));
    return reply.code(204).send();
  });

  app.post<{ Body: PasswordBody }>('/password', { schema: { body: PasswordBody } }, async (request) => {
    const caller = await authenticate(request, accessTokens);
    const { oldPassword, newPassword, confirmPassword } = request.body;
    return { ok: true, sessionsRevoked: await service.changePassword(caller, oldPassword, newPassword, confirmPassword) };
  });

  app.get('/me', async (request) => {
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
