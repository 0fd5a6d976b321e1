import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** What of a request decides which origin is its own: its headers (`Host`) and whether it came over TLS. */
export interface RequestTarget {
  readonly headers: IncomingHttpHeaders;
  readonly secure: boolean;
}

/** The {@link RequestTarget} of a raw Node request. */
export function targetOf(request: IncomingMessage): RequestTarget {
  return { headers: request.headers, secure: 'encrypted' in request.socket && request.socket.encrypted === true };
}

/**
 * Which browser origins may use the gateway (CORS_ORIGIN). One instance is shared by HTTP CORS and the
 * Socket.IO handshake on both transports, so a page from a foreign origin can neither call the API from
 * a browser nor open an authenticated socket (cross-site WebSocket hijacking). An Origin equal to the
 * request's own origin — the scheme it came in by and its `Host` — is same-origin and always allowed
 * (native clients such as python-socketio send one).
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string> | undefined;

  /**
   * @param origins - CORS_ORIGIN: `'*'` or exact origins.
   * @param domains - ALLOW_REQUEST_DOMAINS: when set, the Origin's host must also be one of
   *   these domains or a subdomain of one (`app.foo.com` for `foo.com`; not `foo.com.evil.com`, not `evilfoo.com`).
   * @param trustForwardedProto - TRUST_PROXY is set: a request's scheme is its `X-Forwarded-Proto` (a TLS
   *   proxy in front); otherwise whether it came over TLS. `X-Forwarded-Host` is not read: the proxy passes `Host`.
   */
  constructor(
    origins: '*' | readonly string[],
    private readonly domains: readonly string[] = [],
    private readonly trustForwardedProto = false,
  ) {
    this.allowed = origins === '*' ? undefined : new Set(origins.map(normalizeOrigin));
  }

  get allowsAny(): boolean {
    return this.allowed === undefined;
  }

  /**
   * Requests without an Origin header come from non-browser clients (servers, mobile apps) and are
   * allowed; so is an Origin equal to the `request`'s own origin.
   */
  allows(origin: string | undefined, request?: RequestTarget): boolean {
    if (origin === undefined) return true;
    if (request !== undefined && this.isOwnOrigin(origin, request)) return true;
    if (this.domains.length > 0 && !this.hostAllowed(origin)) return false;
    return this.allowed === undefined || this.allowed.has(normalizeOrigin(origin));
  }

  /**
   * Whether `origin` is `scheme://Host` of the request (default ports and case normalised by URL), whatever
   * CORS_ORIGIN lists: the admin dashboard's state-changing requests must be exactly that.
   */
  isOwnOrigin(origin: string, request: RequestTarget): boolean {
    const host = request.headers.host;
    if (host === undefined || !URL.canParse(origin)) return false;
    const forwarded = this.trustForwardedProto ? firstValue(request.headers['x-forwarded-proto'])?.toLowerCase() : undefined;
    const scheme = forwarded === 'https' || forwarded === 'http' ? forwarded : request.secure ? 'https' : 'http';
    const own = `${scheme}://${host}`;
    return URL.canParse(own) && new URL(own).origin === new URL(origin).origin;
  }

  private hostAllowed(origin: string): boolean {
    if (!URL.canParse(origin)) return false;
    const host = new URL(origin).hostname.toLowerCase();
    return this.domains.some((domain) => host === domain || host.endsWith(`.${domain}`));
  }
}

/** The first of a header's values (`a, b` or repeated headers). */
function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(',')[0]?.trim();
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}
