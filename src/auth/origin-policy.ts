/**
 * Which browser origins may use the gateway (CORS_ORIGIN). One instance is shared by HTTP CORS and the
 * Socket.IO handshake on both transports, so a page from a foreign origin can neither call the API from
 * a browser nor open an authenticated socket (cross-site WebSocket hijacking).
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string> | undefined;

  /**
   * @param origins - CORS_ORIGIN: `'*'` or exact origins.
   * @param domains - ALLOW_REQUEST_DOMAINS: when set, the Origin's host must also be one of
   *   these domains or a subdomain of one (`app.foo.com` for `foo.com`; not `foo.com.evil.com`, not `evilfoo.com`).
   */
  constructor(origins: '*' | readonly string[], private readonly domains: readonly string[] = []) {
    this.allowed = origins === '*' ? undefined : new Set(origins.map(normalizeOrigin));
  }

  get allowsAny(): boolean {
    return this.allowed === undefined;
  }

  /** Requests without an Origin header come from non-browser clients (servers, mobile apps) and are allowed. */
  allows(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    if (this.domains.length > 0 && !this.hostAllowed(origin)) return false;
    return this.allowed === undefined || this.allowed.has(normalizeOrigin(origin));
  }

  private hostAllowed(origin: string): boolean {
    if (!URL.canParse(origin)) return false;
    const host = new URL(origin).hostname.toLowerCase();
    return this.domains.some((domain) => host === domain || host.endsWith(`.${domain}`));
  }

  /** The list for CORS headers: `'*'` or the exact origins. */
  corsOrigins(): '*' | string[] {
    return this.allowed === undefined ? '*' : [...this.allowed];
  }
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}
