import { createHash } from 'node:crypto';

/**
 * Which header set the bench clients send on their WebSocket upgrade:
 * - `bare`: only what the `ws` library and Node's HTTP client send (Host, Connection, Upgrade,
 *   Sec-WebSocket-Key, Sec-WebSocket-Version): about 150 bytes, far less than any browser;
 * - `browser`: that plus {@link browserHeaders}, what a desktop Chrome sends.
 */
export type HeaderProfile = 'bare' | 'browser';

export const HEADER_PROFILES: readonly HeaderProfile[] = ['bare', 'browser'];

/** The Origin of the page the clients pretend to be on. Every server under test allows any origin. */
export const BROWSER_ORIGIN = 'http://localhost';

/** Desktop Chrome on Windows, in the reduced User-Agent format (minor, build and patch frozen at 0). */
const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';

/** A fixed "now" (2026-11-21T09:00:00Z, in s) for the cookies' timestamps, so runs are reproducible. */
const NOW_S = 1_763_715_600;

/**
 * The headers a desktop Chrome adds to a WebSocket upgrade (`new WebSocket(…)` in a page) beyond those
 * `ws` sends itself: Origin, User-Agent, Accept-Encoding, Accept-Language, Cache-Control and Pragma
 * (Chrome sends `no-cache` on every upgrade), Sec-WebSocket-Extensions (Chrome always offers
 * permessage-deflate; the servers under test do not enable it, so it is not negotiated and the client
 * does not need to support it), and the Cookie header.
 *
 * It models a gateway deployed the usual way: cross-origin but same-site with the app (the app on
 * `app.example.com`, the gateway on `push.example.com`), so the site's first-party cookies scoped to the
 * registrable domain ride along: a signed express-session id, an XSRF token, Google Analytics (`_ga`,
 * `_ga_<stream>`, `_gid`), Google Ads and Meta pixel ids, and a Cookiebot consent record — about 600
 * bytes, which is typical (large sites send several KB). Values a browser would hold per user (session,
 * tokens, analytics client ids, timestamps) are derived from `clientKey`, so every client sends its own
 * strings; the rest (consent choices, stream id) is the same for all, as it is for a site's visitors.
 *
 * A server that keeps each connection's handshake request (Socket.IO's `socket.request` and
 * `socket.handshake.headers`) keeps all of this alive per connection, which the `bare` profile hides.
 */
export function browserHeaders(clientKey: string): Record<string, string> {
  return {
    Pragma: 'no-cache',
    'Cache-Control': 'no-cache',
    'User-Agent': USER_AGENT,
    Origin: BROWSER_ORIGIN,
    'Accept-Encoding': 'gzip, deflate, br, zstd',
    'Accept-Language': 'en-US,en;q=0.9,de;q=0.8',
    Cookie: browserCookies(clientKey),
    'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits',
  };
}

/** The Cookie header of {@link browserHeaders}: fixed length, per-client values. */
export function browserCookies(clientKey: string): string {
  const bytes = createHash('sha512').update(clientKey).digest();
  const b64 = bytes.toString('base64url'); // 86 characters
  const stamp = createHash('sha512').update(`${clientKey}/consent`).digest('base64url').slice(0, 56);
  const hex = bytes.toString('hex'); // 128 characters
  // Fixed-width decimal numbers taken from the hash, e.g. a 10-digit GA client id.
  const digits = (offset: number, width: number) =>
    String(bytes.readUInt32BE(offset) % 10 ** Math.min(width, 9)).padStart(width, '1');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  const firstVisit = NOW_S - 86_400 - (bytes.readUInt32BE(40) % (180 * 86_400));
  const sessionStart = NOW_S - (bytes.readUInt16BE(44) % 3600);
  const consentAt = firstVisit + 5;
  return [
    `connect.sid=s%3A${b64.slice(0, 32)}.${b64.slice(32, 75)}`,
    `XSRF-TOKEN=${uuid}`,
    `_ga=GA1.1.${digits(48, 9)}${digits(52, 1)}.${firstVisit}`,
    `_ga_7QK2M4XZ9B=GS2.1.s${sessionStart}$o${2 + (bytes[56] ?? 0) % 7}$g1$t${sessionStart + 312}$j48$l0$h0`,
    `_gid=GA1.2.${digits(57, 9)}${digits(60, 1)}.${NOW_S - 7200}`,
    `_gcl_au=1.1.${digits(32, 9)}${digits(36, 1)}.${firstVisit}`,
    `_fbp=fb.1.${firstVisit}${digits(8, 3)}.${digits(12, 9)}${digits(16, 9)}`,
    'CookieConsent={stamp:%27' + `${stamp}%3D%3D%27%2Cnecessary:true%2Cpreferences:true%2Cstatistics:true` +
      `%2Cmarketing:false%2Cmethod:%27explicit%27%2Cver:2%2Cutc:${consentAt}123%2Cregion:%27de%27}`,
    'lang=en-US',
  ].join('; ');
}
