/** Seconds between attempts when `getToken` fails while a refresh is due. */
const RETRY_S = 5;
/** The soonest a refresh is scheduled after the last one. */
const MIN_REFRESH_MS = 5000;
/** The longest delay setTimeout keeps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The client's token: fetched with the application's `getToken` at the first handshake, again `skewS`
 * seconds before its `exp` (handed over with `refresh`, without reconnecting), on `auth:expired`, and
 * whenever a handshake would otherwise send a token that is about to expire.
 */
export class TokenSource {
  private token: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly getToken: () => Promise<string> | string,
    private readonly skewS: number,
    private readonly refresh: (token: string) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** A token fresh enough to hand to a handshake. */
  async forHandshake(): Promise<string> {
    if (this.token !== undefined && !this.expiresSoon(this.token)) return this.token;
    return this.fetch();
  }

  /** Fetches a new token and hands it to `refresh` (the connection's `auth:refresh`). Failures go to `onError`. */
  async renew(): Promise<void> {
    try {
      await this.refresh(await this.fetch());
    } catch (error) {
      this.onError(error);
      if (!this.stopped && this.timer === undefined) this.timer = setTimeout(() => { this.timer = undefined; void this.renew(); }, RETRY_S * 1000);
    }
  }

  /** Forgets the current token: the next handshake asks `getToken` (after a `TOKEN_EXPIRED` refusal). */
  forget(): void {
    this.token = undefined;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private async fetch(): Promise<string> {
    const value = await this.getToken();
    if (typeof value !== 'string' || value === '') throw new TypeError('getToken() returned no token');
    this.token = value;
    this.schedule(value);
    return value;
  }

  private schedule(token: string): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const exp = expiryOf(token);
    if (exp === undefined || this.stopped) return;
    const leftMs = exp * 1000 - Date.now();
    // `skewS` before `exp`; for a token that lives less than that, halfway through what is left, and never
    // sooner than MIN_REFRESH_MS (a `getToken` answering nearly expired tokens must not spin).
    const dueMs = Math.max(MIN_REFRESH_MS, leftMs > this.skewS * 1000 ? leftMs - this.skewS * 1000 : leftMs / 2);
    // Timers hold at most 2^31-1 ms (24.8 days; longer fires at once): wake up then and look again.
    const inMs = Math.min(dueMs, MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (inMs < dueMs) this.schedule(token);
      else void this.renew();
    }, inMs);
  }

  private expiresSoon(token: string): boolean {
    const exp = expiryOf(token);
    return exp !== undefined && exp * 1000 - this.skewS * 1000 <= Date.now();
  }
}

/** The `exp` claim of a JWT, in seconds; undefined for an opaque token. */
export function expiryOf(token: string): number | undefined {
  const payload = token.replace(/^Bearer\s+/i, '').split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp : undefined;
  } catch {
    return undefined;
  }
}
