import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { GatewayError } from '../protocol/errors.js';
import { DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook } from './webhook-signature.js';

export interface WebhookSenderOptions {
  /** HMAC key (WEBHOOK_SECRET) for `X-Switchboard-Signature`; a per-send `secret` wins. None: deliveries go unsigned. */
  secret?: string;
  /**
   * Hosts deliveries may go to: an exact host name (`hooks.example.com`, or `host:port` to pin the port) or
   * `*.example.com` for its subdomains (not `example.com` itself; list both for both). Unset or empty: any host.
   */
  allowedHosts?: readonly string[];
  /** Time limit of one attempt, response headers included. Default 5000 ms. */
  timeoutMs?: number;
  /** Attempts per delivery, the first included. Default 5. */
  maxAttempts?: number;
  /** First retry delay; doubled per attempt, each delay jittered to 50–100 % of its value. Default 1000 ms. */
  backoffMs?: number;
  /** Cap on one retry delay, also on a receiver's `Retry-After`. Default 60000 ms. */
  maxBackoffMs?: number;
  /** Deliveries waiting to be sent (retries included); past it the oldest is dropped. Default 10000. */
  maxPending?: number;
  /** Attempts in flight at once. Default 16. */
  concurrency?: number;
}

export interface WebhookSendOptions {
  /** Signs this delivery with another secret than the sender's. */
  secret?: string;
}

/** Counters since start, e.g. for `/v1/stats`. */
export interface WebhookStats {
  /** Queued or waiting for a retry. */
  pending: number;
  inFlight: number;
  delivered: number;
  /** Given up: out of attempts, not retryable, or abandoned at close. */
  failed: number;
  /** Dropped unsent because `maxPending` was reached. */
  dropped: number;
  /** Attempts that failed and were scheduled for a retry. */
  retried: number;
}

interface Delivery {
  readonly id: string;
  readonly url: URL;
  readonly body: string;
  readonly secret: string | undefined;
  attempts: number;
  retryTimer?: NodeJS.Timeout;
}

/** What one attempt came to; `retryAfterMs` is the receiver's Retry-After, when it sent one. */
type Outcome =
  | { delivered: true }
  | { delivered: false; retryable: boolean; status?: number; error?: string; retryAfterMs?: number };

const DROP_LOG_INTERVAL_MS = 1_000;

/**
 * The gateway's one webhook sender: join-token `webhook_url` events and the backend webhooks
 * (`room.occupied`, `member.added`, …) both go through it. `send()` only enqueues; deliveries are POSTed
 * in the background as JSON, signed as `webhook-signature.ts` documents, at most `concurrency` at once.
 *
 * Network errors, timeouts, 429 and 5xx are retried with jittered exponential backoff (or the receiver's
 * Retry-After, capped); other answers, redirects included (they are not followed: a redirect could lead
 * off the allow-list), end the delivery. Delivery is at least once and not ordered: a retry may overtake
 * newer deliveries, and a receiver that got the body but answered late gets it again (same delivery id).
 * Memory is bounded by `maxPending`; one slow receiver can still occupy every slot for `timeoutMs` at a time.
 * Failures are logged with the URL's host only — never its path or query (may hold tokens), the body or the secret.
 */
export class WebhookSender {
  private readonly allowedHosts: readonly string[];
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxPending: number;
  private readonly concurrency: number;
  /** Ready to be sent, oldest first (retries go back to the front). */
  private readonly queue: Delivery[] = [];
  /** Waiting for their retry delay, in the order they started waiting. */
  private readonly waiting = new Set<Delivery>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  private readonly counts = { delivered: 0, failed: 0, dropped: 0, retried: 0 };
  private unloggedDrops = 0;
  private dropLogTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private onIdle: (() => void) | undefined;

  constructor(private readonly options: WebhookSenderOptions, private readonly logger: Logger) {
    this.allowedHosts = (options.allowedHosts ?? []).map((host) => host.trim().toLowerCase()).filter((host) => host !== '');
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffMs = options.backoffMs ?? 1_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.maxPending = options.maxPending ?? 10_000;
    this.concurrency = options.concurrency ?? 16;
  }

  /**
   * Parses `url` and throws unless it is an http(s) URL without credentials to an allowed host. Call it
   * where a URL is first accepted (e.g. when a join token is used) to refuse it there; `send()` checks again.
   */
  check(url: string): URL {
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    let reason: string | undefined;
    if (parsed === undefined) reason = 'invalid';
    else if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') reason = 'scheme';
    else if (parsed.username !== '' || parsed.password !== '') reason = 'credentials';
    else if (!this.hostAllowed(parsed)) reason = 'host';
    if (parsed === undefined || reason !== undefined) {
      throw new GatewayError('WEBHOOK_URL_FORBIDDEN', 'The webhook URL is not an http(s) URL to an allowed host', { details: { field: 'webhook_url', reason } });
    }
    return parsed;
  }

  /**
   * Enqueues a POST of `payload` (serialised to JSON now, so later changes to it do not matter) and returns
   * at once with the delivery id, or `undefined` once `close()` has begun (the payload is dropped).
   * Throws what `check(url)` throws, and a TypeError for a payload JSON cannot serialise.
   */
  send(url: string, payload: unknown, options: WebhookSendOptions = {}): string | undefined {
    const target = this.check(url);
    if (this.closing !== undefined) return undefined;
    const body = JSON.stringify(payload);
    if (body === undefined) throw new TypeError('The webhook payload cannot be serialised to JSON');
    const delivery: Delivery = { id: randomUUID(), url: target, body, secret: options.secret ?? this.options.secret, attempts: 0 };
    this.queue.push(delivery);
    while (this.queue.length + this.waiting.size > this.maxPending) this.dropOldest();
    this.pump();
    return delivery.id;
  }

  stats(): WebhookStats {
    return { pending: this.queue.length + this.waiting.size, inFlight: this.inFlight.size, ...this.counts };
  }

  /**
   * Stops accepting, sends what is queued (retries due later are sent at once; failures are no longer
   * retried) and waits for it all up to `timeoutMs`. Past it, attempts in flight are aborted and what is left
   * is abandoned, with one warn line. Calling it again returns the same promise.
   */
  close(timeoutMs = 5_000): Promise<void> {
    this.closing ??= this.drain(timeoutMs);
    return this.closing;
  }

  private async drain(timeoutMs: number): Promise<void> {
    for (const delivery of this.waiting) this.retryNow(delivery);
    this.pump();
    if (!this.isIdle()) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<boolean>((resolve) => { this.onIdle = () => resolve(true); });
      const expired = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
      const drained = await Promise.race([idle, expired]);
      clearTimeout(timer);
      if (!drained) {
        const abandoned = this.queue.length + this.inFlight.size;
        this.counts.failed += this.queue.length;
        this.queue.length = 0;
        this.shutdown.abort();
        await Promise.allSettled([...this.inFlight]);
        this.logger.warn({ abandoned, timeoutMs }, 'webhook deliveries abandoned at close');
      }
    }
    clearTimeout(this.dropLogTimer);
    this.logDrops();
  }

  private hostAllowed(url: URL): boolean {
    if (this.allowedHosts.length === 0) return true;
    const { hostname, host } = url;
    return this.allowedHosts.some((allowed) =>
      allowed.startsWith('*.') ? hostname.endsWith(allowed.slice(1)) : allowed === hostname || allowed === host);
  }

  /** Starts queued deliveries while slots are free. */
  private pump(): void {
    while (this.inFlight.size < this.concurrency && this.queue.length > 0) {
      const delivery = this.queue.shift()!;
      const attempt: Promise<void> = this.attempt(delivery).catch((error: unknown) => {
        this.logger.error({ err: error, deliveryId: delivery.id }, 'webhook delivery failed unexpectedly');
      }).finally(() => {
        this.inFlight.delete(attempt);
        this.pump();
        if (this.isIdle()) this.onIdle?.();
      });
      this.inFlight.add(attempt);
    }
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.waiting.size === 0 && this.inFlight.size === 0;
  }

  private async attempt(delivery: Delivery): Promise<void> {
    delivery.attempts += 1;
    const outcome = await this.post(delivery);
    if (outcome.delivered) {
      this.counts.delivered += 1;
      return;
    }
    if (this.shutdown.signal.aborted) {
      this.counts.failed += 1; // counted in close()'s one "abandoned" line
      return;
    }
    if (!outcome.retryable || delivery.attempts >= this.maxAttempts || this.closing !== undefined) {
      this.counts.failed += 1;
      const { status, error } = outcome;
      this.logger.warn({ host: delivery.url.host, deliveryId: delivery.id, attempts: delivery.attempts, status, error }, 'webhook delivery given up');
      return;
    }
    this.counts.retried += 1;
    this.scheduleRetry(delivery, Math.min(outcome.retryAfterMs ?? this.backoff(delivery.attempts), this.maxBackoffMs));
  }

  /** One POST; never throws. */
  private async post(delivery: Delivery): Promise<Outcome> {
    const timestampS = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [DELIVERY_HEADER]: delivery.id,
      [TIMESTAMP_HEADER]: String(timestampS),
    };
    if (delivery.secret !== undefined) headers[SIGNATURE_HEADER] = signWebhook(delivery.secret, timestampS, delivery.body);
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.shutdown.signal]),
      });
      void response.body?.cancel().catch(() => undefined); // the answer's body is not read; free the connection
      const { status } = response;
      if (status >= 200 && status < 300) return { delivered: true };
      const retryable = status === 429 || status >= 500;
      const retryAfterMs = retryable ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
      return { delivered: false, retryable, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    } catch (error) {
      return { delivered: false, retryable: true, error: describeError(error) };
    }
  }

  /** Delay before attempt `attempts + 1`: backoffMs · 2^(attempts − 1), capped, jittered to 50–100 %. */
  private backoff(attempts: number): number {
    const full = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempts - 1));
    return full / 2 + Math.random() * (full / 2);
  }

  private scheduleRetry(delivery: Delivery, delayMs: number): void {
    this.waiting.add(delivery);
    delivery.retryTimer = setTimeout(() => {
      this.retryNow(delivery);
      this.pump();
    }, delayMs);
    delivery.retryTimer.unref();
  }

  /** Moves a delivery waiting for its retry delay to the front of the queue. */
  private retryNow(delivery: Delivery): void {
    clearTimeout(delivery.retryTimer);
    this.waiting.delete(delivery);
    this.queue.unshift(delivery);
  }

  /** Drops the oldest queued delivery, else the one waiting longest for a retry. */
  private dropOldest(): void {
    const oldest = this.queue.shift() ?? this.waiting.values().next().value;
    if (oldest === undefined) return;
    clearTimeout(oldest.retryTimer);
    this.waiting.delete(oldest);
    this.counts.dropped += 1;
    this.unloggedDrops += 1;
    // The first drop is logged at once, later ones as one count per interval, so overload does not flood the log.
    if (this.dropLogTimer === undefined) {
      this.logDrops();
      this.dropLogTimer = setTimeout(() => {
        this.dropLogTimer = undefined;
        this.logDrops();
      }, DROP_LOG_INTERVAL_MS);
      this.dropLogTimer.unref();
    }
  }

  private logDrops(): void {
    if (this.unloggedDrops === 0) return;
    this.logger.warn({ dropped: this.unloggedDrops, maxPending: this.maxPending }, 'webhook queue full; oldest deliveries dropped');
    this.unloggedDrops = 0;
  }
}

/** Retry-After as delay-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1_000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** A short, secret-free name for a failed attempt: the socket error code (ECONNREFUSED), else the error's name (TimeoutError). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown';
  const cause: unknown = error.cause;
  if (cause instanceof Error && 'code' in cause && typeof cause.code === 'string') return cause.code;
  return error.name;
}
