/**
 * Which browser origins may use the gateway (CORS_ORIGIN). One instance is shared by HTTP CORS and the
 * Socket.IO handshake on both transports, so a page from a foreign origin can neither call the API from
 * a browser nor open an authenticated socket (cross-site WebSocket hijacking).
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string> | undefined;

  constructor(origins: '*' | readonly string[]) {
    this.allowed = origins === '*' ? undefined : new Set(origins.map(normalizeOrigin));
  }

  get allowsAny(): boolean {
    return this.allowed === undefined;
  }

  /** Requests without an Origin header come from non-browser clients (servers, mobile apps) and are allowed. */
  allows(origin: string | undefined): boolean {
    if (origin === undefined || this.allowed === undefined) return true;
    return this.allowed.has(normalizeOrigin(origin));
  }

  /** The list for CORS headers: `'*'` or the exact origins. */
  corsOrigins(): '*' | string[] {
    return this.allowed === undefined ? '*' : [...this.allowed];
  }
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}
