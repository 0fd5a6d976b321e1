import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { IntrospectionConfig } from '../config/config.js';
import { GatewayError } from '../protocol/errors.js';
import { LogSampler, type SampledLine } from '../runtime/log-sampler.js';
import type { AuthEvent, AuthStrategy, Identity } from './auth-strategy.js';

/** Most positive answers kept at once; past it the oldest is dropped. */
const MAX_CACHE_ENTRIES = 10_000;

export interface IntrospectionOptions {
  /** The clock, in Unix milliseconds (tests move it). */
  readonly now?: () => number;
  readonly maxCacheEntries?: number;
  /** Field of the answer naming the transaction events' client (tenant) of the token; `clientId` by default. */
  readonly clientIdClaim?: string;
  /** Samples the endpoint's failures, which every handshake repeats while it is down (default: a sampler of its own). */
  readonly logs?: LogSampler;
}

/**
 * Asks an RFC 7662-style endpoint about each token: `POST { "token": … }` as JSON, answer
 * `{ active, user_id | sub, session_id?, exp? }`. `active: true` and a user id are required
 * (else TOKEN_INVALID; an `exp` already past is TOKEN_EXPIRED). A non-2xx status, a body that is not JSON,
 * a network error or no answer within `timeoutMs` is AUTH_UNAVAILABLE: an endpoint outage must not tell
 * every client its token is bad, and a handshake never waits longer than the timeout.
 *
 * Positive answers are cached for `cacheTtlMs`, never past the token's `exp`, keyed by the token's SHA-256
 * (raw tokens are never kept or logged), at most {@link MAX_CACHE_ENTRIES} of them. Concurrent checks of
 * one token share one request, so a reconnect storm costs one request per distinct token. Refusals are not
 * cached. The answer's `roles` are not read (Identity has no place for them yet).
 */
export class IntrospectionStrategy implements AuthStrategy {
  readonly name = 'introspection';
  private readonly cache = new Map<string, { identity: Identity; until: number }>();
  private readonly inFlight = new Map<string, Promise<Identity>>();
  private readonly now: () => number;
  private readonly maxCacheEntries: number;

  private readonly clientIdClaim: string;
  private readonly failures: Record<'status' | 'unreachable' | 'notJson', SampledLine>;

  constructor(private readonly config: IntrospectionConfig, logger: Logger, options: IntrospectionOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxCacheEntries = options.maxCacheEntries ?? MAX_CACHE_ENTRIES;
    this.clientIdClaim = options.clientIdClaim ?? 'clientId';
    const logs = options.logs ?? new LogSampler();
    this.failures = {
      status: logs.line(logger, 'warn', 'introspection endpoint answered with an error status'),
      unreachable: logs.line(logger, 'warn', 'introspection endpoint unreachable'),
      notJson: logs.line(logger, 'warn', 'introspection endpoint answered with something that is not JSON'),
    };
  }

  async authenticate(event: AuthEvent): Promise<Identity> {
    const key = createHash('sha256').update(event.token).digest('base64url');
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      if (cached.until > this.now()) return cached.identity;
      this.cache.delete(key);
    }
    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      pending = this.introspect(event.token, key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async introspect(token: string, key: string): Promise<Identity> {
    const answer = await this.ask(token);
    const identity = this.identityOf(answer);
    this.remember(key, identity);
    return identity;
  }

  /** POSTs the token and returns the parsed JSON answer; every failure to get one is AUTH_UNAVAILABLE. */
  private async ask(token: string): Promise<unknown> {
    let text: string;
    try {
      const response = await fetch(this.config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ token }),
        // Covers the body as well as the headers, so a slow endpoint cannot hold a handshake open.
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
      text = await response.text();
      if (!response.ok) {
        this.failures.status.write(undefined, { status: String(response.status) });
        throw new GatewayError('AUTH_UNAVAILABLE', 'The token introspection endpoint answered with an error');
      }
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      this.failures.unreachable.write(undefined, { reason: timedOut ? 'timeout' : 'network' }, { timeoutMs: this.config.timeoutMs });
      throw new GatewayError('AUTH_UNAVAILABLE', timedOut ? 'The token introspection endpoint did not answer in time' : 'The token introspection endpoint could not be reached');
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      this.failures.notJson.write(undefined, {});
      throw new GatewayError('AUTH_UNAVAILABLE', 'The token introspection endpoint gave an unreadable answer');
    }
  }

  private identityOf(answer: unknown): Identity {
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
      throw new GatewayError('TOKEN_INVALID', 'The token introspection answer is not an object');
    }
    const fields = answer as Record<string, unknown>;
    if (fields.active !== true) throw new GatewayError('TOKEN_INVALID', 'The token is not active');
    const userId = asId(fields.user_id) ?? asId(fields.sub);
    if (userId === undefined) throw new GatewayError('TOKEN_INVALID', 'The token introspection answer has no user_id or sub');
    const expiresAt = typeof fields.exp === 'number' && Number.isFinite(fields.exp) ? fields.exp * 1000 : undefined;
    if (expiresAt !== undefined && expiresAt <= this.now()) throw new GatewayError('TOKEN_EXPIRED');
    const roles = Array.isArray(fields.roles) ? fields.roles.filter((role): role is string => typeof role === 'string' && role.length > 0) : [];
    const clientId = asId(fields[this.clientIdClaim]);
    return { userId, sessionId: asId(fields.session_id), expiresAt, ...(roles.length > 0 ? { roles } : {}), ...(clientId === undefined ? {} : { clientId }) };
  }

  private remember(key: string, identity: Identity): void {
    if (this.config.cacheTtlMs <= 0) return;
    const until = Math.min(this.now() + this.config.cacheTtlMs, identity.expiresAt ?? Number.POSITIVE_INFINITY);
    this.cache.delete(key);
    while (this.cache.size >= this.maxCacheEntries) {
      const oldest = this.cache.keys().next();
      if (oldest.done === true) break;
      this.cache.delete(oldest.value);
    }
    this.cache.set(key, { identity, until });
  }
}

function asId(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
