import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { AuthServiceConfig } from '../config/config.js';
import { GatewayError } from '../protocol/errors.js';
import { ADMIN_ROLE, ALL_PERMISSIONS } from '../auth/permissions.js';
import type { AccountStore, SessionRecord, SessionTokens } from '../stores/account-store.js';
import type { LoginThrottle } from '../stores/login-throttle.js';
import { hashPassword, passwordRuleBroken, verifyPassword } from './passwords.js';
import type { Revocations } from './revocations.js';
import { refreshTokenHash, type TokenIssuer } from './token-issuer.js';
import type { UserVerifier, VerifiedUser } from './user-verifier.js';
import type { Metrics } from '../runtime/metrics.js';

/** The user id of the access-key (admin) login (its role is ADMIN_ROLE, its permissions `*`). */
export const ADMIN_USER_ID = 'admin';

/** What login and refresh answer. */
export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** Seconds until the access token expires. */
  readonly expiresIn: number;
  readonly tokenType: 'Bearer';
}

/** Who is logging in, for the throttle and the session. */
export interface LoginContext {
  readonly ip: string;
  /** The device the session is for (REUSE_ACCESS_TOKEN); `''` when not given. */
  readonly deviceId: string;
}

/** Who is calling an authenticated route: the access token's user and session. */
export interface Caller {
  readonly userId: string;
  readonly sessionId: string;
}

interface Principal {
  readonly userId: string;
  readonly role: string;
  readonly permissions: readonly string[];
}

/**
 * The auth service's rules (seeds 000 and 004), independent of HTTP: login with the access key or a
 * username and password, refresh with rotation and reuse detection, logout, password change. Every
 * revocation disconnects the sessions' sockets on every node (through {@link Revocations}).
 */
export class AuthService {
  private readonly accessKeyDigest: Buffer | undefined;

  constructor(
    private readonly config: AuthServiceConfig,
    private readonly store: AccountStore,
    private readonly issuer: TokenIssuer,
    private readonly verifier: UserVerifier,
    private readonly throttle: LoginThrottle,
    private readonly revocations: Revocations,
    private readonly logger: Logger,
    /** Counts the login throttle's refusals; `undefined` = metrics off. */
    private readonly metrics?: Pick<Metrics, 'rateLimit'>,
  ) {
    this.accessKeyDigest = config.accessKey === undefined ? undefined : digest(config.accessKey);
  }

  /** `POST /login { accessKey }`: an admin session (role `admin`, every permission) when the key matches. */
  async loginWithAccessKey(accessKey: string, context: LoginContext): Promise<TokenPair> {
    const keys = [ipKey(context.ip)];
    await this.takeAttempt(keys);
    // Compared as SHA-256 digests in constant time: neither the key's content nor its length leaks.
    const matches = this.accessKeyDigest !== undefined && timingSafeEqual(digest(accessKey), this.accessKeyDigest);
    if (!matches) {
      this.logger.info({ ip: context.ip }, 'admin login refused');
      throw new GatewayError('LOGIN_FAILED', 'The access key is not valid');
    }
    await this.throttle.forgive(keys);
    return this.openSession({ userId: ADMIN_USER_ID, role: ADMIN_ROLE, permissions: [ALL_PERMISSIONS] }, context);
  }

  /**
   * `POST /login { username, password }`: a user session when the verifier accepts. An unknown user and
   * a wrong password get the same LOGIN_FAILED, after the same work; failures count per username and
   * per IP, and past LOGIN_MAX_FAILURES the answer is RATE_LIMITED with Retry-After.
   */
  async loginWithPassword(username: string, password: string, context: LoginContext): Promise<TokenPair> {
    const nameKey = userKey(username);
    const ip = ipKey(context.ip);
    await this.takeAttempt([nameKey, ip]);
    let user: VerifiedUser | undefined;
    try {
      user = await this.verifier.verify(username, password);
    } catch (error) {
      await this.throttle.forgive([nameKey, ip]); // an outage is not the caller's guess
      throw error;
    }
    if (user === undefined || user.id === ADMIN_USER_ID) {
      // The attempt stays counted. Not the username in the log: people type passwords there.
      if (user !== undefined) this.logger.warn('VERIFY_USER_URL answered the reserved user id "admin"; login refused');
      else this.logger.info({ ip: context.ip }, 'login refused');
      throw new GatewayError('LOGIN_FAILED');
    }
    await Promise.all([this.throttle.reset(nameKey), this.throttle.forgive([ip])]);
    if (user.disabled) throw new GatewayError('USER_DISABLED');
    return this.openSession(principalOf(user), context);
  }

  /**
   * `POST /token`: spends the refresh token and answers a new pair. A spent token presented again (or
   * two refreshes racing with the same token) revokes the whole session: whoever holds a copy is locked
   * out along with the thief.
   */
  async refresh(token: string): Promise<TokenPair> {
    const claims = await this.issuer.verifyRefresh(token);
    const session = await this.store.findSession(claims.sessionId);
    const now = Date.now();
    if (session === undefined || session.userId !== claims.userId) throw new GatewayError('REFRESH_TOKEN_INVALID');
    if (session.revokedAt !== undefined) throw new GatewayError('REFRESH_TOKEN_INVALID', 'The session was logged out or revoked; log in again');
    if (session.expiresAt <= now) throw new GatewayError('REFRESH_TOKEN_INVALID', 'The refresh token has expired; log in again');
    const presentedHash = refreshTokenHash(token);
    if (presentedHash !== session.refreshHash) {
      if (claims.generation >= session.refreshGeneration) throw new GatewayError('REFRESH_TOKEN_INVALID');
      await this.revokeForReuse(session);
      throw new GatewayError('REFRESH_TOKEN_REUSED');
    }
    const state = await this.store.sessionState(session.id, now);
    if (state?.userDisabled === true) throw new GatewayError('USER_DISABLED');
    const { tokens, pair } = await this.mint(session, session.refreshGeneration + 1, now);
    if (!(await this.store.rotateTokens(session.id, presentedHash, tokens))) {
      // Revoked meanwhile (a logout or password change), or another refresh with this same token won the
      // race: the token was used twice.
      if ((await this.store.findSession(session.id))?.revokedAt !== undefined) throw new GatewayError('REFRESH_TOKEN_INVALID', 'The session was logged out or revoked; log in again');
      await this.revokeForReuse(session);
      throw new GatewayError('REFRESH_TOKEN_REUSED');
    }
    return pair;
  }

  /** `DELETE /logout`: revokes the refresh token's session (any generation of it) and logs its sockets out. */
  async logout(token: string): Promise<void> {
    const claims = await this.issuer.verifyRefresh(token, true);
    const session = await this.store.findSession(claims.sessionId);
    if (session === undefined || session.userId !== claims.userId) throw new GatewayError('REFRESH_TOKEN_INVALID');
    if (await this.store.revokeSession(session.id, 'logout', Date.now())) {
      this.logger.info({ userId: session.userId, sessionId: session.id }, 'logged out');
    }
    this.revocations.sessionsRevoked([session.id], 'logout');
  }

  /**
   * `POST /password` (seed 004): new and confirm must match, old and new must differ, the new one must be
   * long enough and the old one right. On success every other session of the user is revoked and logged out.
   * Wrong old passwords count as failed logins.
   */
  async changePassword(caller: Caller, oldPassword: string, newPassword: string, confirmPassword: string): Promise<number> {
    if (!this.verifier.managesPasswords || caller.userId === ADMIN_USER_ID) throw new GatewayError('PASSWORD_CHANGE_UNSUPPORTED');
    if (newPassword !== confirmPassword) throw new GatewayError('PASSWORD_MISMATCH');
    if (oldPassword === newPassword) throw new GatewayError('PASSWORD_UNCHANGED');
    const broken = passwordRuleBroken(newPassword);
    if (broken !== undefined) throw new GatewayError('PASSWORD_TOO_WEAK', `The new password ${broken}`);
    const keys = [userKey(caller.userId)];
    const user = await this.store.findUser(caller.userId);
    if (user === undefined) throw new GatewayError('PASSWORD_CHANGE_UNSUPPORTED');
    await this.takeAttempt(keys);
    if (!(await verifyPassword(user.passwordHash, oldPassword))) throw new GatewayError('OLD_PASSWORD_WRONG');
    await this.throttle.forgive(keys);
    const revoked = await this.store.changePassword(user.username, await hashPassword(newPassword), caller.sessionId, Date.now());
    this.logger.info({ userId: user.id, sessionsRevoked: revoked?.length ?? 0 }, 'password changed');
    this.revocations.sessionsRevoked(revoked ?? [], 'password-changed');
    return revoked?.length ?? 0;
  }

  private async openSession(principal: Principal, context: LoginContext): Promise<TokenPair> {
    const now = Date.now();
    // Reuse needs a named device (two browsers without one are not one device) and never applies to the
    // access key, which many admins may share.
    if (this.config.reuseAccessToken && context.deviceId !== '' && principal.userId !== ADMIN_USER_ID) {
      const reused = await this.reuse(principal, context.deviceId, now);
      if (reused !== undefined) return reused;
    }
    const session = { id: randomUUID(), ...principal, deviceId: context.deviceId, createdAt: now };
    const { tokens, pair } = await this.mint(session, 0, now);
    await this.store.createSession({ ...session, ...tokens });
    this.logger.info({ userId: principal.userId, sessionId: session.id }, 'logged in');
    return pair;
  }

  /**
   * Seed 004's multi-device rule: the device's live session, its tokens signed again from the stored
   * claims (signing is deterministic, so they are the very tokens it was given). A session whose role or
   * permissions changed since, or whose tokens do not come out the same, is not reused.
   */
  private async reuse(principal: Principal, deviceId: string, now: number): Promise<TokenPair | undefined> {
    const session = await this.store.findReusableSession(principal.userId, deviceId, now + 1000);
    if (session === undefined || session.role !== principal.role || !sameList(session.permissions, principal.permissions)) return undefined;
    const refreshToken = await this.issuer.signRefresh({
      userId: session.userId, sessionId: session.id, generation: session.refreshGeneration,
      iat: seconds(session.refreshIssuedAt), exp: seconds(session.expiresAt),
    });
    if (refreshTokenHash(refreshToken) !== session.refreshHash) return undefined;
    const accessToken = await this.issuer.signAccess({
      userId: session.userId, sessionId: session.id, role: session.role, permissions: session.permissions,
      jti: session.accessJti, iat: seconds(session.accessIssuedAt), exp: seconds(session.accessExpiresAt),
    });
    return { accessToken, refreshToken, expiresIn: seconds(session.accessExpiresAt) - seconds(now), tokenType: 'Bearer' };
  }

  /** New tokens for a session: times are whole seconds (as JWTs carry them), so re-signing reproduces them. */
  private async mint(session: Pick<SessionRecord, 'id' | 'userId' | 'role' | 'permissions'>, generation: number, now: number): Promise<{ tokens: SessionTokens; pair: TokenPair }> {
    const iat = seconds(now);
    const accessExp = iat + this.config.accessTokenTtlS;
    const refreshExp = iat + this.config.refreshTokenTtlS;
    const jti = randomUUID();
    const accessToken = await this.issuer.signAccess({
      userId: session.userId, sessionId: session.id, role: session.role, permissions: session.permissions, jti, iat, exp: accessExp,
    });
    const refreshToken = await this.issuer.signRefresh({ userId: session.userId, sessionId: session.id, generation, iat, exp: refreshExp });
    return {
      tokens: {
        refreshGeneration: generation, refreshHash: refreshTokenHash(refreshToken), refreshIssuedAt: iat * 1000, expiresAt: refreshExp * 1000,
        accessJti: jti, accessIssuedAt: iat * 1000, accessExpiresAt: accessExp * 1000,
      },
      pair: { accessToken, refreshToken, expiresIn: this.config.accessTokenTtlS, tokenType: 'Bearer' },
    };
  }

  private async revokeForReuse(session: SessionRecord): Promise<void> {
    await this.store.revokeSession(session.id, 'refresh-token-reused', Date.now());
    this.logger.warn({ userId: session.userId, sessionId: session.id }, 'refresh token reused; session revoked');
    this.revocations.sessionsRevoked([session.id], 'refresh-token-reused');
  }

  /** Counts the attempt before any secret is checked; refuses when a key is over LOGIN_MAX_FAILURES. */
  private async takeAttempt(keys: readonly string[]): Promise<void> {
    const waitS = await this.throttle.take(keys);
    if (waitS > 0) {
      this.metrics?.rateLimit('login').inc();
      throw new GatewayError('RATE_LIMITED', 'Too many failed logins; try again later', { retryAfterS: waitS });
    }
  }
}

function principalOf(user: VerifiedUser): Principal {
  return { userId: user.id, role: user.role, permissions: user.permissions };
}

/** The throttle key of a username: the forms a backend may treat as one name (case, Unicode compatibility) count together. */
function userKey(username: string): string {
  return `user:${username.normalize('NFKC').toLowerCase()}`;
}

/**
 * The throttle key of a client address: the address itself for IPv4 (and IPv4-mapped IPv6), its /64
 * network for IPv6 — one host usually holds a whole /64, so counting single addresses would let it
 * rotate through billions of them.
 */
export function ipKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return `ip:${mapped[1] as string}`;
  if (isIPv6(address)) return `ip:${expandIPv6(address).slice(0, 4).join(':')}::/64`;
  return `ip:${address}`;
}

/** The eight groups of an IPv6 address (`::` expanded, zone dropped), lower case without leading zeros. */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((group) => group.replace(/^0+(?=.)/, ''));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
